import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { sql } from '#shared/db/sql.ts';
import { type DatabaseKind, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  type IsolationLayer,
  openRowLevelSecurity,
  withoutTenantFilters,
} from '#test/fixtures/isolation-layers.ts';
import { call, TEST_ADMIN_TOKEN, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestBot,
  createTestChat,
  createTestSource,
  createTestTenant,
  createTestUser,
  expectProblem,
  type HttpMethod,
  login,
  mintToken,
  openApiDocument,
  operations,
  seedEveryTable,
  TENANT_TABLES,
  type TestApp,
  type TestTenant,
  tenantSnapshot,
} from '#test/fixtures/tenants.ts';

/** What a fixture gets: the app and the tenant that owns the resource to create. */
interface Owner {
  readonly app: TestApp;
  readonly tenant: TestTenant;
}

interface IdRouteFixture {
  /** Creates a fresh resource owned by `owner` and returns its `{id}`. */
  create(owner: Owner): Promise<string>;
  /** A body that succeeds on the caller's own resource, for every method that takes one. */
  readonly bodies?: Partial<Record<HttpMethod, unknown>>;
}

/**
 * Every documented route with an `{id}` parameter. A new `{id}` route fails this suite until it has an
 * entry here (creating the resource and giving a valid body per method is all it takes).
 */
const ID_ROUTES: Record<string, IdRouteFixture> = {
  '/v1/users/{id}': {
    create: async ({ app, tenant }) => (await createTestUser(app, tenant, 'member')).id,
    // No password: a reset needs a user session, which the API-token half of the matrix is not.
    bodies: { patch: { name: 'Renamed by someone', role: 'admin' } },
  },
  '/v1/api-tokens/{id}': {
    create: async ({ app, tenant }) => (await mintToken(app, tenant.apiToken, { scopes: ['read'] })).id,
  },
  '/v1/bots/{id}': {
    create: async ({ app, tenant }) => (await createTestBot(app, tenant.apiToken)).id,
    bodies: {
      patch: {
        name: 'hijacked',
        provider: 'openai',
        model: 'gpt-4o-mini',
        credentials: { api_key: 'sk-attacker-key-0000' },
      },
    },
  },
  '/v1/models/{id}': {
    create: async ({ app, tenant }) => (await createTestBot(app, tenant.apiToken)).id,
  },
  '/v1/sources/{id}': {
    create: async ({ app, tenant }) => (await createTestSource(app, tenant.apiToken)).id,
  },
  '/v1/sources/{id}/reingest': {
    create: async ({ app, tenant }) => (await createTestSource(app, tenant.apiToken)).id,
  },
  // Completing is idempotent, so the owner's own call succeeds on any source; a waiting upload of another
  // tenant is covered in source-uploads.test.ts.
  '/v1/sources/{id}/complete': {
    create: async ({ app, tenant }) => (await createTestSource(app, tenant.apiToken)).id,
  },
  '/v1/chats/{id}': { create: async ({ app, tenant }) => (await createTestChat(app, tenant.apiToken)).id },
  '/v1/chats/{id}/messages': {
    create: async ({ app, tenant }) => (await createTestChat(app, tenant.apiToken)).id,
    bodies: { post: { content: 'What do you know?' } },
  },
  '/v1/bots/{id}/publishable-keys': {
    create: async ({ app, tenant }) => (await createTestBot(app, tenant.apiToken)).id,
    bodies: { post: { allowed_origins: ['https://help.example.com'] } },
  },
  '/v1/publishable-keys/{id}': {
    create: async ({ app, tenant }) => {
      const bot = await createTestBot(app, tenant.apiToken);
      const res = await call(app, 'POST', `/v1/bots/${bot.id}/publishable-keys`, {
        token: tenant.apiToken,
        body: { allowed_origins: ['https://help.example.com'] },
      });
      return res.body.id as string;
    },
  },
};

/** Routes that name another resource in the body or query: B's id there must not reach B's data either. */
const REFERENCES: {
  name: string;
  method: string;
  path: (idOfB: string) => string;
  body?: (idOfB: string) => unknown;
}[] = [
  {
    name: "POST /v1/chats with B's bot",
    method: 'POST',
    path: () => '/v1/chats',
    body: (bot) => ({ bot_id: bot }),
  },
  {
    name: "POST /v1/chat/completions with B's bot as model",
    method: 'POST',
    path: () => '/v1/chat/completions',
    body: (bot) => ({ model: bot, messages: [{ role: 'user', content: 'hello' }] }),
  },
  {
    name: "POST /v1/responses with B's bot as model",
    method: 'POST',
    path: () => '/v1/responses',
    body: (bot) => ({ model: bot, input: 'hello' }),
  },
];

/** Platform-admin routes: a tenant credential gets 403 on them, whoever's id it names. */
const PLATFORM_ID_ROUTES: Record<string, Partial<Record<HttpMethod, unknown>>> = {
  '/v1/tenants/{id}': { patch: { status: 'suspended', name: 'taken over' } },
};

const doc = await openApiDocument();
// The website routes (/v1/public) take no tenant credential at all (401): their visitor-against-visitor and
// visitor-against-tenant walls are tested in visitor-security.test.ts.
const idOperations = operations(doc, (path) => path.includes('{id}') && !path.startsWith('/v1/public/'));
const tenantIdOperations = idOperations.filter((op) => !(op.path in PLATFORM_ID_ROUTES));
const platformIdOperations = idOperations.filter((op) => op.path in PLATFORM_ID_ROUTES);
/** Every list endpoint (a GET answering `{ data, next_cursor }`), except the platform admin's. */
const listPaths = operations(
  doc,
  (path, method) =>
    method === 'get' &&
    !path.includes('{') &&
    !path.startsWith('/v1/tenants') &&
    doc.paths[path]?.get?.responses?.['200']?.content?.['application/json']?.schema?.properties
      ?.next_cursor !== undefined,
).map((op) => op.path);

/** `[label, operation]` rows, so test names read `PATCH /v1/bots/{id}` without quotes. */
const labelled = (ops: { path: string; method: HttpMethod }[]) =>
  ops.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const);
const CREDENTIALS = ['API token', 'access token (JWT)'] as const;
type Credential = (typeof CREDENTIALS)[number];

interface MatrixRun {
  readonly name: string;
  readonly kind: DatabaseKind;
  readonly layer: IsolationLayer;
  readonly credentials: readonly Credential[];
}
/**
 * The matrix on every database with both layers of isolation, then on the embedded one with each layer
 * alone: row-level security opened up (the queries' tenant conditions must hold by themselves), and the
 * tenant conditions dropped from the app's statements (RLS must hold by itself). One credential suffices
 * there: both reach the same queries.
 */
const embedded = databaseKinds()[0] as DatabaseKind;
const RUNS: MatrixRun[] = [
  ...databaseKinds().map((kind) => ({
    name: kind.name,
    kind,
    layer: 'both layers' as const,
    credentials: CREDENTIALS,
  })),
  {
    name: `${embedded.name} with RLS open (app filters alone)`,
    kind: embedded,
    layer: 'app filters alone',
    credentials: ['API token'],
  },
  {
    name: `${embedded.name} without the tenant conditions (RLS alone)`,
    kind: embedded,
    layer: 'RLS alone',
    credentials: ['API token'],
  },
];
const at = (template: string, id: string) => template.replace('{id}', id);

describe.each(RUNS)('cross-tenant matrix on $name', ({ kind, layer, credentials }) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let dropped: { count: number } | undefined;
  let a: TestTenant;
  let b: TestTenant;
  const tokenOfA: Record<Credential, string> = {
    'API token': '',
    'access token (JWT)': '',
  };

  beforeAll(async () => {
    database = await kind.create();
    let appDb = database.db;
    if (layer === 'app filters alone') await openRowLevelSecurity(database.db);
    if (layer === 'RLS alone') {
      const filtered = withoutTenantFilters(database.db);
      dropped = filtered.dropped;
      appDb = filtered;
    }
    app = createApiApp(testPlatform({ ...database, db: appDb }));
    a = await createTestTenant(app, 'tenant-a');
    b = await createTestTenant(app, 'tenant-b');
    tokenOfA['API token'] = a.apiToken;
    tokenOfA['access token (JWT)'] = await login(app, a);
    // B owns a row in every tenant-owned table, so "B unchanged" is checked on every table.
    await seedEveryTable(database.db, b.id);
    await seedEveryTable(database.db, a.id); // so A's lists are not trivially empty
    await createTestBot(app, b.apiToken, {
      provider: 'openai',
      credentials: { api_key: 'sk-tenant-b-key-1234' },
    });
  });
  afterAll(() => database.dispose());

  it('when the OpenAPI document lists the {id} routes then each has a fixture here (new routes must join)', () => {
    expect(new Set(tenantIdOperations.map((op) => op.path))).toEqual(new Set(Object.keys(ID_ROUTES)));
    expect(new Set(platformIdOperations.map((op) => op.path))).toEqual(
      new Set(Object.keys(PLATFORM_ID_ROUTES)),
    );
    expect(listPaths).toEqual(expect.arrayContaining(['/v1/users', '/v1/api-tokens', '/v1/bots']));
  });

  describe.each(credentials)("with tenant A's %s", (credential) => {
    it.each(labelled(tenantIdOperations))(
      "when A calls %s with B's id then 404 problem and none of B's rows change",
      async (_, { path, method }) => {
        const fixture = ID_ROUTES[path];
        if (!fixture) throw new Error(`No cross-tenant fixture for ${path}: add one to ID_ROUTES`);
        const body = fixture.bodies?.[method];
        if (doc.paths[path]?.[method]?.requestBody && body === undefined) {
          throw new Error(`No sample body for ${method.toUpperCase()} ${path}: add one to ID_ROUTES`);
        }
        const idOfB = await fixture.create({ app, tenant: b });
        const before = await tenantSnapshot(database.db, b.id);

        const res = await call(app, method.toUpperCase(), at(path, idOfB), {
          token: tokenOfA[credential],
          body,
        });
        expectProblem(res, 404);
        expect(res.text).not.toContain(b.id);
        expect(await tenantSnapshot(database.db, b.id)).toEqual(before);

        // Control: the same request on A's own resource succeeds, so the 404 above is the tenancy wall.
        const idOfA = await fixture.create({ app, tenant: a });
        const own = await call(app, method.toUpperCase(), at(path, idOfA), {
          token: tokenOfA[credential],
          body,
        });
        expect(own.status, own.text).toBeLessThan(300);
      },
    );

    it.each(labelled(platformIdOperations))(
      "when A calls the platform route %s (B's id or its own) then 403 and no tenant changes",
      async (_, { path, method }) => {
        const body = PLATFORM_ID_ROUTES[path]?.[method];
        for (const target of [b, a]) {
          const before = await tenantSnapshot(database.db, target.id);
          const res = await call(app, method.toUpperCase(), at(path, target.id), {
            token: tokenOfA[credential],
            body,
          });
          expectProblem(res, 403);
          expect(await tenantSnapshot(database.db, target.id)).toEqual(before);
        }
        // Control: the platform admin may.
        const admin = await call(app, method.toUpperCase(), at(path, b.id), {
          token: TEST_ADMIN_TOKEN,
          body,
        });
        expect(admin.status, admin.text).toBe(200);
        if (method === 'patch') {
          await call(app, 'PATCH', at(path, b.id), { token: TEST_ADMIN_TOKEN, body: { status: 'active' } });
        }
      },
    );

    it("when A lists /v1/models then it sees its own bots and none of B's", async () => {
      const [botsOfA, botsOfB] = await Promise.all(
        [a, b].map((t) =>
          // Filtered by tenant, not by RLS alone: the matrix also runs with RLS open.
          database.db.withTenant(t.id, (tx) =>
            tx.query<{ id: string }>(sql`select id from bot_profiles where tenant_id = ${t.id}`),
          ),
        ),
      );
      expect(botsOfB!.length).toBeGreaterThan(0);
      const res = await call(app, 'GET', '/v1/models', { token: tokenOfA[credential] });
      expect(res.status, res.text).toBe(200);
      expect(res.body.object).toBe('list');
      expect(new Set(res.body.data.map((m: { id: string }) => m.id))).toEqual(
        new Set(botsOfA!.map((r) => r.id)),
      );
      for (const { id } of botsOfB!) expect(res.text).not.toContain(id);
      expect(res.text).not.toContain(b.id);
    });

    it.each(listPaths)("when A lists %s then none of B's ids appear", async (path) => {
      // Filtered by tenant, not by RLS alone: with RLS open this must still be B's ids only.
      const idsOfB = await database.db.withTenant(b.id, async (tx) => {
        const ids: string[] = [b.id];
        for (const table of Object.values(TENANT_TABLES)) {
          // Traces and feedback are keyed by their message id.
          const rows = await tx.query<{ id: string }>(sql`
            select coalesce(to_jsonb(t) ->> 'id', to_jsonb(t) ->> 'message_id') as id
            from ${table} t where tenant_id = ${b.id}`);
          ids.push(...rows.map((r) => r.id));
        }
        return ids;
      });
      expect(idsOfB.length).toBeGreaterThan(8);
      const res = await call(app, 'GET', `${path}?limit=100`, { token: tokenOfA[credential] });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeGreaterThan(0);
      for (const id of idsOfB) expect(res.text).not.toContain(id);
    });
  });

  it.each(REFERENCES.map((r) => [r.name, r] as const))(
    'when A calls %s then 404 and B is unchanged',
    async (_, ref) => {
      const { botId } = await createTestChat(app, b.apiToken);
      const before = await tenantSnapshot(database.db, b.id);
      expectProblem(
        await call(app, ref.method, ref.path(botId), { token: a.apiToken, body: ref.body?.(botId) }),
        404,
      );
      expect(await tenantSnapshot(database.db, b.id)).toEqual(before);
    },
  );

  it("when A filters its chats by B's bot then the list is empty", async () => {
    const { botId } = await createTestChat(app, b.apiToken);
    const res = await call(app, 'GET', `/v1/chats?bot_id=${botId}`, { token: a.apiToken });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  it("when A asks for its own tenant then it sees only A's", async () => {
    const me = await call(app, 'GET', '/v1/tenants/me', { token: a.apiToken });
    expect(me.body.tenant.id).toBe(a.id);
    expect(me.text).not.toContain(b.id);
  });

  if (layer === 'RLS alone')
    it("when the run is over then the app's statements really ran without their tenant conditions", () => {
      expect(dropped?.count).toBeGreaterThan(50);
    });
});
