import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { signAccessToken } from '#shared/auth/access-token.ts';
import { generateApiToken } from '#shared/auth/api-token.ts';
import { newId } from '#shared/domain/ids.ts';
import { insertApiToken } from '#shared/repositories/api-tokens.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, TEST_JWT_KEY, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestTenant,
  createTestUser,
  expectProblem,
  login,
  mintToken,
  OWNER_PASSWORD,
  type TestTenant,
} from '#test/fixtures/tenants.ts';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A JWT with any header, HS-signed with `key` (or with an empty signature when `key` is undefined). */
function craftJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key?: string,
  hash = 'sha256',
) {
  const unsigned = `${b64url(header)}.${b64url(payload)}`;
  const signature = key === undefined ? '' : createHmac(hash, key).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

describe.each(databaseKinds())('credentials and tokens on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let t: TestTenant;
  let jwt: string;
  const claimsOf = (tenant: TestTenant) => ({
    userId: tenant.ownerId,
    tenantId: tenant.id,
    role: 'owner' as const,
  });

  beforeAll(async () => {
    database = await kind.create();
    app = createApiApp(testPlatform(database));
    t = await createTestTenant(app, 'auth');
    jwt = await login(app, t);
  });
  afterAll(() => database.dispose());

  const me = (token: string | undefined) => call(app, 'GET', '/v1/tenants/me', { token });

  it('when the Authorization header is missing or not Bearer then 401 with WWW-Authenticate', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: `Basic ${btoa('a:b')}` },
      { authorization: 'Bearer' },
    ];
    for (const headers of variants) {
      const res = await call(app, 'GET', '/v1/bots', { headers });
      expectProblem(res, 401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="minirag"');
    }
  });

  it('when a valid JWT and the API token are used then both work (control)', async () => {
    expect((await me(jwt)).status).toBe(200);
    expect((await me(t.apiToken)).status).toBe(200);
  });

  it('when the JWT expired (signed with the right key, exp in the past) then 401', async () => {
    const { token } = await signAccessToken(claimsOf(t), TEST_JWT_KEY, 60, nowSeconds() - 3600);
    expectProblem(await me(token), 401);
  });

  it('when one character of the JWT signature is flipped then 401', async () => {
    const last = jwt.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${jwt.slice(0, -2)}${last}${jwt.slice(-1)}`;
    expect(tampered).not.toBe(jwt);
    expectProblem(await me(tampered), 401);
  });

  it('when the JWT payload is changed (role, tenant) and the signature kept then 401', async () => {
    const [header, , signature] = jwt.split('.');
    const payload = {
      sub: t.ownerId,
      tid: t.id,
      role: 'owner',
      typ: 'access',
      iat: nowSeconds(),
      exp: nowSeconds() + 9e5,
    };
    expectProblem(await me(`${header}.${b64url(payload)}.${signature}`), 401);
  });

  it("when the JWT says alg 'none' with an empty signature then 401", async () => {
    const payload = {
      sub: t.ownerId,
      tid: t.id,
      role: 'owner',
      typ: 'access',
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
    };
    expectProblem(await me(craftJwt({ alg: 'none', typ: 'JWT' }, payload)), 401);
    expectProblem(await me(craftJwt({ alg: 'none', typ: 'JWT' }, payload).slice(0, -1)), 401);
  });

  it('when the JWT is signed with another key or another HMAC algorithm then 401', async () => {
    const { token } = await signAccessToken(claimsOf(t), 'another-signing-key-0123456789abcdef', 600);
    expectProblem(await me(token), 401);
    const payload = {
      sub: t.ownerId,
      tid: t.id,
      role: 'owner',
      typ: 'access',
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
    };
    expectProblem(await me(craftJwt({ alg: 'HS512', typ: 'JWT' }, payload, TEST_JWT_KEY, 'sha512')), 401);
  });

  it("when a correctly signed JWT names one tenant and another tenant's user then 401", async () => {
    const other = await createTestTenant(app, 'other');
    const { token } = await signAccessToken(
      { userId: other.ownerId, tenantId: t.id, role: 'owner' },
      TEST_JWT_KEY,
      600,
    );
    expectProblem(await me(token), 401);
  });

  it('when the tenant slug, the email or the password is wrong then 401 with the same message', async () => {
    const attempts = [
      { tenant: 'no-such-tenant', email: t.ownerEmail, password: OWNER_PASSWORD },
      { tenant: t.slug, email: 'nobody@nowhere.test', password: OWNER_PASSWORD },
      { tenant: t.slug, email: t.ownerEmail, password: 'wrong password!' },
    ];
    const details = new Set<string>();
    for (const body of attempts) {
      const res = await call(app, 'POST', '/v1/auth/token', { body });
      expectProblem(res, 401);
      details.add(res.body.detail);
    }
    expect(details.size).toBe(1);
    await login(app, t); // one success resets the owner's failure count
  });

  it('when a user fails to log in 5 times then the 6th try is 429 with Retry-After, even with the right password', async () => {
    const user = await createTestUser(app, t, 'member');
    const attempt = (password: string) =>
      call(app, 'POST', '/v1/auth/token', { body: { tenant: t.slug, email: user.email, password } });
    for (let i = 0; i < 5; i++) expectProblem(await attempt('not the password'), 401);
    const locked = await attempt('not the password');
    expectProblem(locked, 429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(300);
    expectProblem(await attempt(user.password), 429);
  });

  it('when 30 guesses arrive at once, the right one among them, then at most 5 reach the password check', async () => {
    const user = await createTestUser(app, t, 'member');
    const guesses = Array.from({ length: 30 }, (_, i) => (i === 29 ? user.password : `wrong guess ${i}`));
    const statuses = await Promise.all(
      guesses.map(async (password) => {
        const res = await call(app, 'POST', '/v1/auth/token', {
          body: { tenant: t.slug, email: user.email, password },
        });
        return res.status;
      }),
    );
    const checked = statuses.filter((s) => s === 401 || s === 200).length;
    expect(checked, JSON.stringify(statuses)).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBe(30 - checked);
  });

  it('when an unknown email or tenant fails 5 times then it is locked out the same way, so a lockout reveals no account', async () => {
    const lockout = async (tenant: string, email: string) => {
      const attempt = () =>
        call(app, 'POST', '/v1/auth/token', { body: { tenant, email, password: 'not the password' } });
      for (let i = 0; i < 5; i++) expectProblem(await attempt(), 401);
      const locked = await attempt();
      expectProblem(locked, 429);
      return { detail: locked.body.detail, retryAfter: Number(locked.headers.get('retry-after')) };
    };
    const real = await createTestUser(app, t, 'member');
    const outcomes = [
      await lockout(t.slug, real.email),
      await lockout(t.slug, 'nobody-here@nowhere.test'),
      await lockout('no-such-tenant', 'nobody-here@nowhere.test'),
    ];
    expect(new Set(outcomes.map((o) => o.detail)).size).toBe(1);
    for (const o of outcomes) expect(o.retryAfter).toBeGreaterThan(290);
    // The lockout is per (tenant, email): another member of the tenant still signs in.
    const other = await createTestUser(app, t, 'member');
    const ok = await call(app, 'POST', '/v1/auth/token', {
      body: { tenant: t.slug, email: other.email, password: other.password },
    });
    expect(ok.status, ok.text).toBe(200);
  });

  it('when an API token is revoked then it is refused at once with 401', async () => {
    const minted = await mintToken(app, t.apiToken, { scopes: ['read'] });
    expect((await me(minted.token)).status).toBe(200);
    expect((await call(app, 'DELETE', `/v1/api-tokens/${minted.id}`, { token: t.apiToken })).status).toBe(
      204,
    );
    expectProblem(await me(minted.token), 401);
  });

  it('when an API token is made with expires_at in the past then 400; one that has expired is refused with 401', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const res = await call(app, 'POST', '/v1/api-tokens', {
      token: t.apiToken,
      body: { name: 'old', scopes: ['read'], expires_at: past },
    });
    expectProblem(res, 400, 'expires_at');

    const generated = generateApiToken();
    await database.db.withTenant(t.id, (tx) =>
      insertApiToken(tx, t.id, {
        id: newId(),
        userId: t.ownerId,
        name: 'expired',
        prefix: generated.displayPrefix,
        hash: generated.hash,
        scopes: ['read'],
        role: 'owner',
        isServiceAccount: false,
        expiresAt: new Date(Date.now() - 1000),
      }),
    );
    expectProblem(await me(generated.secret), 401);
    // Well-formed but unknown: the last character changed (to one it is not already).
    const unknown = `${t.apiToken.slice(0, -1)}${t.apiToken.endsWith('x') ? 'y' : 'x'}`;
    expectProblem(await me(unknown), 401);
  });

  it('when the tenant is suspended then its API token and JWT get 403, and sign-in answers as a wrong password does whatever the password; reactivated they work again', async () => {
    const tenant = await createTestTenant(app, 'suspend');
    const tenantJwt = await login(app, tenant);
    const setStatus = async (status: string) => {
      const res = await call(app, 'PATCH', `/v1/tenants/${tenant.id}`, {
        token: TEST_ADMIN_TOKEN,
        body: { status },
      });
      expect(res.status, res.text).toBe(200);
    };
    await setStatus('suspended');
    expectProblem(await me(tenant.apiToken), 403, 'suspended');
    expectProblem(await me(tenantJwt), 403, 'suspended');
    expectProblem(await call(app, 'GET', '/v1/bots', { token: tenant.apiToken }), 403);
    const signIn = async (password: string) => {
      const res = await call(app, 'POST', '/v1/auth/token', {
        body: { tenant: tenant.slug, email: tenant.ownerEmail, password },
      });
      const { request_id: _, instance: __, ...problem } = res.body;
      return { status: res.status, problem };
    };
    const right = await signIn(OWNER_PASSWORD);
    const wrong = await signIn('not the password at all');
    expect(right.status).toBe(401);
    expect(right).toEqual(wrong); // no password confirmation oracle
    await setStatus('active');
    expect((await me(tenant.apiToken)).status).toBe(200);
    expect((await me(tenantJwt)).status).toBe(200);
  });

  it('when an API token has only the read scope then writing a bot is 403 and reading is 200', async () => {
    const reader = await mintToken(app, t.apiToken, { scopes: ['read'] });
    expectProblem(
      await call(app, 'POST', '/v1/bots', { token: reader.token, body: { name: 'nope' } }),
      403,
      'bots:write',
    );
    expect((await call(app, 'GET', '/v1/bots', { token: reader.token })).status).toBe(200);
  });

  it('when a member tries to mint an admin-scoped or service-account token then 403', async () => {
    const member = await createTestUser(app, t, 'member');
    const admin = await call(app, 'POST', '/v1/api-tokens', {
      token: member.jwt,
      body: { name: 'x', scopes: ['admin'] },
    });
    expectProblem(admin, 403);
    const service = await call(app, 'POST', '/v1/api-tokens', {
      token: member.jwt,
      body: { name: 'x', scopes: ['read'], service_account: true },
    });
    expectProblem(service, 403);
    const own = await call(app, 'POST', '/v1/api-tokens', {
      token: member.jwt,
      body: { name: 'x', scopes: ['read'] },
    });
    expect(own.status, own.text).toBe(201);
  });

  it('when a read-only token tries to mint a token then 403; a member session cannot mint more scopes than it has', async () => {
    const reader = await mintToken(app, t.apiToken, { scopes: ['read'] });
    const res = await call(app, 'POST', '/v1/api-tokens', {
      token: reader.token,
      body: { name: 'x', scopes: ['read'] },
    });
    expectProblem(res, 403, 'admin');
    const member = await createTestUser(app, t, 'member');
    const wider = await call(app, 'POST', '/v1/api-tokens', {
      token: member.jwt,
      body: { name: 'x', scopes: ['bots:write'] },
    });
    expectProblem(wider, 403, 'bots:write');
  });

  it('when the platform admin token is used on tenant routes then 403; a tenant token on platform routes then 403', async () => {
    for (const path of ['/v1/bots', '/v1/users', '/v1/api-tokens', '/v1/tenants/me']) {
      expectProblem(await call(app, 'GET', path, { token: TEST_ADMIN_TOKEN }), 403);
    }
    const create = { name: 'Rogue', owner_email: 'rogue@rogue.test' };
    expectProblem(await call(app, 'POST', '/v1/tenants', { token: t.apiToken, body: create }), 403);
    expectProblem(await call(app, 'POST', '/v1/tenants', { token: jwt, body: create }), 403);
    expectProblem(await call(app, 'GET', '/v1/tenants', { token: jwt }), 403);
  });
});
