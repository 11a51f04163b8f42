import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestTenant,
  createTestUser,
  expectProblem,
  mintToken,
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
});
