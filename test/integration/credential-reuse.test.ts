import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { authenticate } from '#shared/auth/authenticate.ts';
import { CREDENTIAL_REUSE_MS } from '#shared/auth/credential-cache.ts';
import type { Database } from '#shared/ports/database.ts';
import { revokeApiToken } from '#shared/repositories/api-tokens.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, TEST_JWT_KEY, testPlatform } from '#test/fixtures/platform.ts';
import { createTestTenant, mintToken, type TestTenant } from '#test/fixtures/tenants.ts';

/** The database, counting the transactions it is asked for. */
function countingTransactions(db: Database) {
  const counter = { transactions: 0 };
  const counted: Database = {
    kind: db.kind,
    close: () => db.close(),
    withTenant: (tenantId, fn) => {
      counter.transactions++;
      return db.withTenant(tenantId, fn);
    },
    withSettings: (settings, fn) => {
      counter.transactions++;
      return db.withSettings(settings, fn);
    },
    withSystem: (fn) => {
      counter.transactions++;
      return db.withSystem(fn);
    },
  };
  return { db: counted, counter };
}

describe.each(databaseKinds())('reusing a resolved credential on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let counter: { transactions: number };
  let t: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    const platform = testPlatform(database);
    const counting = countingTransactions(platform.db);
    counter = counting.counter;
    app = createApiApp({ ...platform, db: counting.db });
    t = await createTestTenant(app, 'reuse');
  });
  afterAll(() => database.dispose());

  const deps = (now: Date) => ({
    db: database.db,
    adminToken: TEST_ADMIN_TOKEN,
    jwtSigningKey: TEST_JWT_KEY,
    now: () => now,
  });

  it('when an authenticated list is repeated then the second request is one transaction: the route’s own', async () => {
    const { token } = await mintToken(app, t.apiToken, { scopes: ['read'] });
    expect((await call(app, 'GET', '/v1/sources', { token })).status).toBe(200);
    const before = counter.transactions;
    expect((await call(app, 'GET', '/v1/sources', { token })).status).toBe(200);
    expect(counter.transactions - before).toBe(1);
  });

  it('when a token is revoked through another process then it still passes here within the bound, and not after it', async () => {
    const { id, token } = await mintToken(app, t.apiToken, { scopes: ['read'] });
    const start = new Date();
    await expect(authenticate(token, deps(start))).resolves.toMatchObject({ kind: 'tenant' });
    // Another container revokes it: the row changes, this process's cache is not told.
    await database.db.withTenant(t.id, (tx) => revokeApiToken(tx, t.id, id));
    const within = new Date(start.getTime() + CREDENTIAL_REUSE_MS - 1);
    await expect(authenticate(token, deps(within))).resolves.toMatchObject({ kind: 'tenant' });
    const after = new Date(start.getTime() + CREDENTIAL_REUSE_MS);
    await expect(authenticate(token, deps(after))).rejects.toMatchObject({ status: 401 });
  });

  it('when a token is revoked through this process then its next request is refused at once', async () => {
    const { id, token } = await mintToken(app, t.apiToken, { scopes: ['read'] });
    expect((await call(app, 'GET', '/v1/sources', { token })).status).toBe(200);
    expect((await call(app, 'DELETE', `/v1/api-tokens/${id}`, { token: t.apiToken })).status).toBe(204);
    expect((await call(app, 'GET', '/v1/sources', { token })).status).toBe(401);
  });

  it('when a token expires sooner than the reuse bound then it is not reused past its expiry', async () => {
    const start = new Date();
    const expiresAt = new Date(start.getTime() + 60_000);
    const { token } = await mintToken(app, t.apiToken, {
      scopes: ['read'],
      expires_at: expiresAt.toISOString(),
    });
    await expect(authenticate(token, deps(new Date(expiresAt.getTime() - 1_000)))).resolves.toMatchObject({
      kind: 'tenant',
    });
    await expect(authenticate(token, deps(expiresAt))).rejects.toMatchObject({ status: 401 });
  });
});
