import { randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { handle } from 'hono/aws-lambda';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createPostgresDatabase } from '#shared/adapters/postgres/database.ts';
import { migrate } from '#shared/db/migrate.ts';
import { type FakeQdrant, startFakeQdrant } from '#test/fakes/qdrant-server.ts';
import { apiGatewayEvent, invoke } from '#test/fixtures/apigw-events.ts';
import {
  createTestSchema,
  databaseKinds,
  loginRoleUrl,
  type TestDatabase,
} from '#test/fixtures/databases.ts';
import { TEST_ADMIN_TOKEN, TEST_JWT_KEY, testPlatform } from '#test/fixtures/platform.ts';

describe.each(databaseKinds())('the api app behind hono/aws-lambda on $name', (kind) => {
  let database: TestDatabase;
  let handler: ReturnType<typeof handle>;

  beforeAll(async () => {
    database = await kind.create();
    handler = handle(createApiApp(testPlatform(database)));
  });
  afterAll(() => database.dispose());

  it('when API Gateway sends GET /healthz then 200 JSON', async () => {
    const res = await invoke(handler, apiGatewayEvent('GET', '/healthz'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({ status: 'ok' });
    expect(res.isBase64Encoded).toBe(false);
  });

  it('when a tenant is created through an event then its token authenticates a later event', async () => {
    const created = await invoke(
      handler,
      apiGatewayEvent('POST', '/v1/tenants', {
        token: TEST_ADMIN_TOKEN,
        body: { name: 'Lambda Co', owner_email: 'owner@lambda.test' },
      }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const token = created.json.api_token.token as string;

    const me = await invoke(handler, apiGatewayEvent('GET', '/v1/tenants/me', { token }));
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json.tenant.slug).toBe('lambda-co');

    const listed = await invoke(handler, apiGatewayEvent('GET', '/v1/users?limit=5', { token }));
    expect(listed.statusCode).toBe(200);
    expect(listed.json.data).toHaveLength(1);
  });

  it('when the route does not exist then a 404 problem+json', async () => {
    const res = await invoke(handler, apiGatewayEvent('GET', '/v1/nothing-here'));
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status: 404, instance: '/v1/nothing-here' });
  });

  it('when the body arrives base64-encoded then it is decoded: valid → 201, invalid → 400 problem', async () => {
    const ok = await invoke(
      handler,
      apiGatewayEvent('POST', '/v1/tenants', {
        token: TEST_ADMIN_TOKEN,
        body: { name: 'Base64 Ltd', owner_email: 'owner@b64.test' },
        base64: true,
      }),
    );
    expect(ok.statusCode, ok.body).toBe(201);

    const bad = await invoke(
      handler,
      apiGatewayEvent('POST', '/v1/tenants', {
        token: TEST_ADMIN_TOKEN,
        body: { name: '', owner_email: 'nope' },
        base64: true,
      }),
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
    expect(bad.json.detail).toContain('owner_email');
  });

  it('when the credential is missing then 401 with WWW-Authenticate through the adapter', async () => {
    const res = await invoke(handler, apiGatewayEvent('GET', '/v1/bots'));
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });
});

const databaseUrl = process.env.DATABASE_URL;
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0d3b1c8e-6c0a-4c7e-9f6e-5a4b3c2d1e0f';

describe.skipIf(!databaseUrl)(
  databaseUrl
    ? 'functions/api/handler.ts with real env, PostgreSQL and mocked KMS'
    : 'functions/api/handler.ts (skipped: needs DATABASE_URL for a real PostgreSQL)',
  () => {
    let kms: AwsClientStub<KMSClient>;
    let schema = '';
    let dropSchema: () => Promise<void> = async () => {};
    /** KMS's memory: data key by ciphertext blob, with the context it was generated under. */
    const issued = new Map<string, { key: Buffer; context: string }>();
    let handler: unknown;
    let qdrant: FakeQdrant;

    beforeAll(async () => {
      // As the other real-PostgreSQL suites: a schema owned by the test login role, which is no superuser.
      const url = loginRoleUrl(databaseUrl as string);
      ({ schema, drop: dropSchema } = await createTestSchema(databaseUrl as string));
      // The server has no pgvector (see the last test): this deployment uses Qdrant.
      qdrant = await startFakeQdrant();
      const db = createPostgresDatabase({ url, schema, maxConnections: 1 });
      await migrate(db);
      await db.close();

      kms = mockClient(KMSClient);
      kms.on(GenerateDataKeyCommand).callsFake((input) => {
        const key = randomBytes(32);
        const blob = randomBytes(64);
        issued.set(blob.toString('hex'), { key, context: JSON.stringify(input.EncryptionContext) });
        // A copy each time: the vault zeroes what it is given.
        return { KeyId: KEY_ARN, Plaintext: Buffer.from(key), CiphertextBlob: blob };
      });
      kms.on(DecryptCommand).callsFake((input) => {
        const entry = issued.get(Buffer.from(input.CiphertextBlob).toString('hex'));
        if (!entry || entry.context !== JSON.stringify(input.EncryptionContext)) {
          throw new KMSServiceException({
            name: 'InvalidCiphertextException',
            $fault: 'client',
            message: 'wrong context',
            $metadata: {},
          });
        }
        return { KeyId: KEY_ARN, Plaintext: Buffer.from(entry.key) };
      });

      vi.stubEnv('DATABASE_URL', url);
      vi.stubEnv('DATABASE_SCHEMA', schema);
      vi.stubEnv('JWT_SIGNING_KEY', TEST_JWT_KEY);
      vi.stubEnv('ADMIN_TOKEN', TEST_ADMIN_TOKEN);
      vi.stubEnv('KMS_KEY_ID', 'alias/minirag-credentials');
      vi.stubEnv('AWS_REGION', 'eu-west-1');
      vi.stubEnv('LOG_LEVEL', 'SILENT');
      vi.stubEnv('VECTOR_STORE', 'qdrant');
      vi.stubEnv('QDRANT_URL', qdrant.url);
      vi.resetModules();
      handler = (await import('#functions/api/handler.ts')).handler;
    });

    afterAll(async () => {
      const { apiPlatform } = await import('#functions/api/deps.ts');
      await (await apiPlatform()).db.close();
      vi.unstubAllEnvs();
      kms.restore();
      await qdrant.close();
      await dropSchema();
    });

    it('when a tenant and a bot with a key are created then KMS gets the tenant+bot encryption context', async () => {
      const tenant = await invoke(
        handler,
        apiGatewayEvent('POST', '/v1/tenants', {
          token: TEST_ADMIN_TOKEN,
          body: { name: 'Cloud Co', owner_email: 'owner@cloud.test' },
        }),
      );
      expect(tenant.statusCode, tenant.body).toBe(201);
      const token = tenant.json.api_token.token as string;

      const bot = await invoke(
        handler,
        apiGatewayEvent('POST', '/v1/bots', {
          token,
          body: { name: 'kms bot', provider: 'openai', credentials: { api_key: 'sk-kms-handler-test-9876' } },
        }),
      );
      expect(bot.statusCode, bot.body).toBe(201);
      expect(bot.json.credentials).toEqual({ configured: true, last4: '…9876' });
      expect(bot.body).not.toContain('sk-kms-handler-test');

      const calls = kms.commandCalls(GenerateDataKeyCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toEqual({
        KeyId: 'alias/minirag-credentials',
        KeySpec: 'AES_256',
        EncryptionContext: {
          tenantId: tenant.json.tenant.id,
          botProfileId: bot.json.id,
          purpose: 'bot-credentials',
        },
      });

      const read = await invoke(handler, apiGatewayEvent('GET', `/v1/bots/${bot.json.id}`, { token }));
      expect(read.statusCode).toBe(200);
      expect(read.json.credentials).toEqual({ configured: true, last4: '…9876' });
    });

    it('when the handler refuses a request then the problem+json passes through API Gateway unchanged', async () => {
      const res = await invoke(
        handler,
        apiGatewayEvent('GET', '/v1/bots/not-a-uuid', { token: TEST_ADMIN_TOKEN }),
      );
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const unauth = await invoke(handler, apiGatewayEvent('GET', '/v1/tenants'));
      expect(unauth.statusCode).toBe(401);
    });

    it('when the configuration needs pgvector and the server has none then every request answers 503 with the remedy', async (ctx) => {
      const probe = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
      const available = await probe`select 1 from pg_available_extensions where name = 'vector'`;
      await probe.end();
      if (available.length > 0) ctx.skip(); // this server has the extension
      vi.stubEnv('VECTOR_STORE', 'pgvector');
      vi.resetModules();
      const misconfigured = (await import('#functions/api/handler.ts')).handler;
      try {
        for (const path of ['/v1/tenants', '/v1/bots']) {
          const res = await invoke(misconfigured, apiGatewayEvent('GET', path, { token: TEST_ADMIN_TOKEN }));
          expect(res.statusCode).toBe(503);
          expect(res.headers['content-type']).toBe('application/problem+json');
          expect(res.headers['retry-after']).toBeUndefined(); // only an operator can fix it
          expect(res.json.detail).toMatch(/^vector store: .*no pgvector extension.*VECTOR_STORE=qdrant/);
        }
        const live = await invoke(misconfigured, apiGatewayEvent('GET', '/healthz'));
        expect(live.statusCode).toBe(200); // alive, only not ready
      } finally {
        const { apiPlatform } = await import('#functions/api/deps.ts');
        await (await apiPlatform()).db.close();
      }
    });
  },
);
