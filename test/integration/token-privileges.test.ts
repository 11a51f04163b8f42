import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { sql } from '#shared/db/sql.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestTenant,
  createTestUser,
  expectProblem,
  login,
  mintToken,
  OWNER_PASSWORD,
  type TestTenant,
  tenantSnapshot,
} from '#test/fixtures/tenants.ts';

describe.each(databaseKinds())('what a token may do follows its user on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let t: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    app = createApiApp(testPlatform(database));
    t = await createTestTenant(app, 'privileges');
  });
  afterAll(() => database.dispose());

  const as = (token: string, method: string, path: string, body?: unknown) =>
    call(app, method, path, { token, body });
  const owner = (method: string, path: string, body?: unknown) => as(t.apiToken, method, path, body);

  it('when an admin is demoted to member then their admin token loses the admin role on the next request', async () => {
    const admin = await createTestUser(app, t, 'admin');
    const token = await mintToken(app, admin.jwt, { scopes: ['admin'] });
    expect((await as(token.token, 'POST', '/v1/users', { email: 'made-by-admin@x.test' })).status).toBe(201);

    expect((await owner('PATCH', `/v1/users/${admin.id}`, { role: 'member' })).status).toBe(200);
    const before = await tenantSnapshot(database.db, t.id);
    expectProblem(await as(token.token, 'POST', '/v1/users', { email: 'after-demotion@x.test' }), 403);
    expectProblem(await as(token.token, 'POST', '/v1/bots', { name: 'after demotion' }), 403, 'bots:write');
    expectProblem(
      await as(token.token, 'POST', '/v1/api-tokens', { name: 'escalate', scopes: ['admin'] }),
      403,
    );
    expect(await tenantSnapshot(database.db, t.id)).toEqual(before);
    // What a member may do, the token still does: the intersection, not a lock-out.
    expect((await as(token.token, 'GET', '/v1/sources')).status).toBe(200);
  });

  it('when a user is deleted then their tokens are refused on the next request', async () => {
    const member = await createTestUser(app, t, 'member');
    const token = await mintToken(app, member.jwt, { scopes: ['read'] });
    expect((await as(token.token, 'GET', '/v1/sources')).status).toBe(200);
    expect((await owner('DELETE', `/v1/users/${member.id}`)).status).toBe(204);
    expectProblem(await as(token.token, 'GET', '/v1/sources'), 401);
    expectProblem(await as(member.jwt, 'GET', '/v1/sources'), 401);
  });

  it('when a service-account token has no user then its own scopes stand', async () => {
    const service = await mintToken(app, t.apiToken, {
      scopes: ['read', 'bots:write'],
      service_account: true,
    });
    expect((await as(service.token, 'POST', '/v1/bots', { name: 'by service' })).status).toBe(201);
  });

  /** A token's first use stamps last_used_at; take it before a snapshot meant to show no write. */
  const used = async (token: string) => {
    await as(token, 'GET', '/v1/usage');
    await as(t.apiToken, 'GET', '/v1/usage');
  };
  const signIn = (email: string, password: string) =>
    call(app, 'POST', '/v1/auth/token', { body: { tenant: t.slug, email, password } });

  it.each([
    ['read', ['read']],
    ['chat', ['chat']],
    ['all-scopes', ['admin']],
  ])(
    "when a %s API token changes its own user's password then 403 and the old password still signs in",
    async (_, scopes) => {
      const token = await mintToken(app, t.apiToken, { scopes });
      await used(token.token);
      const before = await tenantSnapshot(database.db, t.id);
      const res = await as(token.token, 'PATCH', `/v1/users/${t.ownerId}`, {
        password: 'attacker chosen password',
        current_password: OWNER_PASSWORD,
      });
      expectProblem(res, 403, 'session');
      expect(await tenantSnapshot(database.db, t.id)).toEqual(before);
      expectProblem(await signIn(t.ownerEmail, 'attacker chosen password'), 401);
      expect((await signIn(t.ownerEmail, OWNER_PASSWORD)).status).toBe(200);
    },
  );

  it('when a read or chat token renames its user or mints or revokes tokens then 403 and nothing is written', async () => {
    for (const scopes of [['read'], ['chat']]) {
      const token = await mintToken(app, t.apiToken, { scopes });
      await used(token.token);
      const before = await tenantSnapshot(database.db, t.id);
      expectProblem(await as(token.token, 'PATCH', `/v1/users/${t.ownerId}`, { name: 'Mallory' }), 403);
      expectProblem(await as(token.token, 'POST', '/v1/api-tokens', { name: 'more', scopes }), 403);
      expectProblem(await as(token.token, 'DELETE', `/v1/api-tokens/${token.id}`), 403);
      expectProblem(await as(token.token, 'DELETE', `/v1/api-tokens/${t.apiTokenId}`), 403);
      expect(await tenantSnapshot(database.db, t.id)).toEqual(before);
    }
  });

  it('when a user changes their own password in a session then the current password is required and older sessions end', async () => {
    const member = await createTestUser(app, t, 'member');
    const other = await login(app, t, member.email, member.password);
    const change = (body: Record<string, unknown>) => as(member.jwt, 'PATCH', `/v1/users/${member.id}`, body);
    expectProblem(await change({ password: 'a brand new password' }), 400, 'current_password');
    expectProblem(await change({ password: 'a brand new password', current_password: 'wrong one!' }), 403);
    expect((await signIn(member.email, member.password)).status).toBe(200);

    const changed = await change({ password: 'a brand new password', current_password: member.password });
    expect(changed.status, changed.text).toBe(200);
    // Both sessions begun before the change are over, the one that made it included.
    expectProblem(await as(member.jwt, 'GET', '/v1/sources'), 401);
    expectProblem(await as(other, 'GET', '/v1/sources'), 401);
    expectProblem(await signIn(member.email, member.password), 401);
    const fresh = await login(app, t, member.email, 'a brand new password');
    expect((await as(fresh, 'GET', '/v1/sources')).status).toBe(200);
  });

  it("when an owner resets a member's password in a session then it is recorded and the member's sessions end", async () => {
    const member = await createTestUser(app, t, 'member');
    const ownerJwt = await login(app, t);
    expectProblem(
      await as(t.apiToken, 'PATCH', `/v1/users/${member.id}`, { password: 'reset by a token' }),
      403,
      'session',
    );
    const reset = await as(ownerJwt, 'PATCH', `/v1/users/${member.id}`, { password: 'reset by the owner' });
    expect(reset.status, reset.text).toBe(200);
    expectProblem(await as(member.jwt, 'GET', '/v1/sources'), 401);
    expect((await signIn(member.email, 'reset by the owner')).status).toBe(200);
    const [row] = await database.db.withTenant(t.id, (tx) =>
      tx.query<{ password_changed_by: string; password_changed_at: Date }>(
        sql`select password_changed_by, password_changed_at from users where id = ${member.id}`,
      ),
    );
    expect(row?.password_changed_by).toBe(t.ownerId);
    expect(row?.password_changed_at).toBeInstanceOf(Date);
  });

  it('when a chat, read or member credential lists users then 403; an owner/admin with the admin scope may', async () => {
    const member = await createTestUser(app, t, 'member');
    for (const token of [
      (await mintToken(app, t.apiToken, { scopes: ['chat'] })).token,
      (await mintToken(app, t.apiToken, { scopes: ['read'] })).token,
      member.jwt,
    ]) {
      const res = await as(token, 'GET', '/v1/users');
      expectProblem(res, 403);
      expect(res.text).not.toContain(t.ownerEmail);
    }
    const admin = await createTestUser(app, t, 'admin');
    expect((await as(admin.jwt, 'GET', '/v1/users')).status).toBe(200);
    expect((await owner('GET', '/v1/users')).status).toBe(200);
  });
});
