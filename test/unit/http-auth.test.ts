import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthenticateDeps } from '#shared/auth/authenticate.ts';
import { forgetResolvedCredentials, rememberCredential } from '#shared/auth/credential-cache.ts';
import type { AuthContext } from '#shared/domain/auth-context.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import { platformAdminAuth, tenantAuth } from '#shared/http/auth.ts';
import type { AppEnv } from '#shared/http/env.ts';
import type { Database } from '#shared/ports/database.ts';
import { captureLogger } from '#test/fixtures/platform.ts';

/**
 * The auth middleware without a database: the platform admin token needs none, and a tenant credential is
 * put in the process's credential cache, which authenticate() consults before the database.
 */
const ADMIN = 'platform-admin-token-for-the-middleware-0123';
const unreachable = new Proxy({} as Database, {
  get: () => () => Promise.reject(new Error('the middleware test has no database')),
});
const deps: AuthenticateDeps = { db: unreachable, adminToken: ADMIN, jwtSigningKey: 'k'.repeat(32) };

function app() {
  const logger = captureLogger();
  const a = new Hono<AppEnv>();
  a.onError((error, c) => {
    const status = (error as { status?: number }).status ?? 500;
    return c.json({ status, message: error.message }, status as 401);
  });
  a.use('*', async (c, next) => {
    c.set('logger', logger);
    await next();
  });
  a.get('/tenant', tenantAuth(deps), (c) => {
    c.get('logger')?.info('in the route');
    return c.json(c.get('auth'));
  });
  a.get('/platform', platformAdminAuth(deps), (c) => c.json({ ok: true }));
  return { app: a, logger };
}

function tenantCredential(): { bearer: string; auth: AuthContext } {
  const bearer = `cached-${randomUUID()}`;
  const auth: AuthContext = {
    tenantId: asTenantId(randomUUID()),
    userId: undefined,
    tokenId: randomUUID(),
    isServiceAccount: true,
    role: 'member',
    scopes: ['read'],
  };
  rememberCredential(bearer, auth, Date.now(), 60_000);
  return { bearer, auth };
}

const get = (a: Hono<AppEnv>, path: string, authorization?: string) =>
  a.request(path, authorization === undefined ? {} : { headers: { authorization } });

afterEach(() => forgetResolvedCredentials());

describe('the Authorization header', () => {
  it.each([
    `Bearer ${ADMIN}`,
    `bearer ${ADMIN}`,
    `BEARER ${ADMIN}`,
    `Bearer   ${ADMIN}`,
    `Bearer\t${ADMIN}`,
    `Bearer ${ADMIN}  `,
  ])('when it is %j then the token is read', async (header) => {
    expect((await get(app().app, '/platform', header)).status).toBe(200);
  });

  it.each([
    ADMIN,
    `Bearer${ADMIN}`,
    `xBearer ${ADMIN}`,
    `Basic ${ADMIN}`,
    `Bearer ${ADMIN} extra`,
    `Bearer x${ADMIN}`,
    'Bearer ',
    '',
  ])('when it is %j then there is no valid token: 401', async (header) => {
    expect((await get(app().app, '/platform', header)).status).toBe(401);
  });

  it('when it is missing then 401', async () => {
    expect((await get(app().app, '/platform')).status).toBe(401);
  });
});

describe('tenant and platform routes', () => {
  it('when a tenant credential calls a tenant route then the route sees its auth, and its log lines carry the tenant id', async () => {
    const { app: a, logger } = app();
    const { bearer, auth } = tenantCredential();
    const res = await get(a, '/tenant', `Bearer ${bearer}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(auth)));
    expect(logger.lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ message: 'in the route', tenantId: auth.tenantId }),
    );
  });

  it('when the request has no logger then the tenant route runs without one', async () => {
    const bare = new Hono<AppEnv>();
    bare.get('/tenant', tenantAuth(deps), (c) => c.json({ logger: c.get('logger') === undefined }));
    const { bearer } = tenantCredential();
    const res = await get(bare, '/tenant', `Bearer ${bearer}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ logger: true });
  });

  it('when the platform admin token calls a tenant route then 403, and the route does not run', async () => {
    const { app: a, logger } = app();
    const res = await get(a, '/tenant', `Bearer ${ADMIN}`);
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain('platform admin token');
    expect(logger.lines).toEqual([]);
  });

  it('when a tenant credential calls a platform route then 403', async () => {
    const { bearer } = tenantCredential();
    const res = await get(app().app, '/platform', `Bearer ${bearer}`);
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain('Only the platform admin');
  });
});
