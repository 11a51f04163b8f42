import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, testPlatform } from '#test/fixtures/platform.ts';

describe.each(databaseKinds())('tenants, users and tokens on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;

  beforeAll(async () => {
    database = await kind.create();
    app = createApiApp(testPlatform(database));
  });
  afterAll(() => database.dispose());

  it('when the admin creates a tenant then its owner logs in, mints a scoped service token and revokes it', async () => {
    const created = await call(app, 'POST', '/v1/tenants', {
      token: TEST_ADMIN_TOKEN,
      body: { name: 'Acme Corp', owner_email: 'Owner@Acme.test', owner_password: 'correct horse battery' },
    });
    expect(created.status).toBe(201);
    expect(created.body.tenant.slug).toBe('acme-corp');
    expect(created.body.api_token.token).toMatch(/^mrag_[0-9A-Za-z]{43}$/);

    const login = await call(app, 'POST', '/v1/auth/token', {
      body: { tenant: 'acme-corp', email: 'owner@acme.test', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    const jwt = login.body.access_token as string;

    const me = await call(app, 'GET', '/v1/tenants/me', { token: jwt });
    expect(me.status).toBe(200);
    expect(me.body.identity).toMatchObject({
      role: 'owner',
      email: 'owner@acme.test',
      is_service_account: false,
    });

    const minted = await call(app, 'POST', '/v1/api-tokens', {
      token: jwt,
      body: { name: 'ingest bot', scopes: ['sources:write', 'read'], service_account: true },
    });
    expect(minted.status).toBe(201);
    const serviceToken = minted.body.token as string;
    const asService = await call(app, 'GET', '/v1/tenants/me', { token: serviceToken });
    expect(asService.body.identity).toMatchObject({
      is_service_account: true,
      scopes: ['sources:write', 'read'],
    });

    const listed = await call(app, 'GET', '/v1/api-tokens', { token: jwt });
    expect(listed.body.data).toHaveLength(2);
    expect(listed.text).not.toContain(serviceToken);

    expect((await call(app, 'DELETE', `/v1/api-tokens/${minted.body.id}`, { token: jwt })).status).toBe(204);
    const afterRevoke = await call(app, 'GET', '/v1/tenants/me', { token: serviceToken });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.headers.get('www-authenticate')).toContain('Bearer');
    expect(afterRevoke.headers.get('content-type')).toBe('application/problem+json');
  });
});
