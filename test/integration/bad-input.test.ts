import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, testPlatform } from '#test/fixtures/platform.ts';
import {
  countTenants,
  createTestAnswer,
  createTestBot,
  createTestChat,
  createTestTenant,
  createTestUser,
  enumPaths,
  expectProblem,
  type HttpMethod,
  lastKey,
  login,
  nodes,
  OWNER_PASSWORD,
  openApiDocument,
  operations,
  REMOVE,
  requiredPaths,
  resolveRef,
  type TestTenant,
  tenantSnapshot,
  withValue,
  wrongTypeFor,
} from '#test/fixtures/tenants.ts';
import { createPublishableKey, SITE, visitorChat, visitorToken } from '#test/fixtures/visitors.ts';

const MAX_JSON_BODY_BYTES = 65_536; // what testPlatform configures

interface Ctx {
  readonly t: TestTenant;
  readonly memberId: string;
  readonly botId: string;
  readonly chatId: string;
  /** An answer in that chat. */
  readonly messageId: string;
  /** The chat's bot: never changed by the PATCH /v1/bots sample, so the chat keeps answering offline. */
  readonly chatBotId: string;
  /** The owner's access token (JWT): changing a password needs a signed-in session. */
  readonly ownerJwt: string;
  /** A website visitor of the chat bot (from a publishable key) and the visitor's own chat. */
  readonly visitorToken: string;
  readonly visitorChatId: string;
}
interface WriteRoute {
  /** Who calls: the tenant owner's API token, the platform admin, or nobody (login). */
  readonly as: 'owner' | 'owner-session' | 'platform-admin' | 'anonymous' | 'visitor';
  readonly id?: (ctx: Ctx) => string;
  /** A body that succeeds, with every field set, so each field gets mutated. */
  readonly body: (ctx: Ctx) => Record<string, unknown>;
}

/** Every documented POST/PATCH route. A new one fails this suite until it has an entry here. */
const WRITE_ROUTES: Record<string, WriteRoute> = {
  'POST /v1/tenants': {
    as: 'platform-admin',
    body: () => ({
      name: 'Bad Input Co',
      slug: 'bad-input-co',
      owner_email: 'owner@bad-input.test',
      owner_password: 'long enough password',
      quotas: { monthly_token_budget: 1000, requests_per_minute: 60 },
    }),
  },
  'PATCH /v1/tenants/{id}': {
    as: 'platform-admin',
    id: ({ t }) => t.id,
    body: () => ({
      name: 'Renamed',
      status: 'active',
      quotas: { monthly_token_budget: 50_000_000, requests_per_minute: 10_000 },
    }),
  },
  'POST /v1/auth/token': {
    as: 'anonymous',
    body: ({ t }) => ({ tenant: t.slug, email: t.ownerEmail, password: OWNER_PASSWORD }),
  },
  'POST /v1/users': {
    as: 'owner',
    body: () => ({
      email: 'new@bad-input.test',
      name: 'New Person',
      role: 'member',
      password: 'long enough password',
    }),
  },
  'PATCH /v1/users/{id}': {
    as: 'owner-session',
    id: ({ memberId }) => memberId,
    body: () => ({ name: 'Renamed Person', role: 'admin', password: 'another long password' }),
  },
  'POST /v1/api-tokens': {
    as: 'owner',
    body: () => ({
      name: 'ci',
      scopes: ['read', 'chat'],
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      service_account: true,
    }),
  },
  'POST /v1/bots': { as: 'owner', body: () => fullBot('New bot') },
  'PATCH /v1/bots/{id}': { as: 'owner', id: ({ botId }) => botId, body: () => fullBot('Renamed bot') },
  'POST /v1/sources': {
    as: 'owner',
    body: () => ({
      title: 'Handbook',
      type: 'markdown',
      content: '# Leave\nTwenty days a year.',
      tags: ['hr'],
      metadata: {},
    }),
  },
  'POST /v1/bots/{id}/publishable-keys': {
    as: 'owner',
    id: ({ botId }) => botId,
    body: () => ({
      name: 'Help centre',
      allowed_origins: [SITE],
      rate_limit: { per_visitor_per_minute: 10, per_key_per_minute: 100 },
      monthly_token_budget: 100_000,
    }),
  },
  'POST /v1/public/chats': { as: 'visitor', body: () => ({ title: 'From the help centre' }) },
  'POST /v1/public/chats/{id}/messages': {
    as: 'visitor',
    id: ({ visitorChatId }) => visitorChatId,
    body: () => ({ content: 'How many days of leave?', stream: false }),
  },
  'POST /v1/sources/uploads': {
    as: 'owner',
    body: () => ({
      filename: 'handbook.pdf',
      content_type: 'application/pdf',
      size_bytes: 1000,
      title: 'Handbook',
      tags: ['hr'],
      metadata: {},
    }),
  },
  'POST /v1/chats': { as: 'owner', body: ({ chatBotId }) => ({ bot_id: chatBotId, title: 'Questions' }) },
  'POST /v1/chats/{id}/messages': {
    as: 'owner',
    id: ({ chatId }) => chatId,
    body: () => ({ content: 'How many days of leave?', stream: false }),
  },
  'POST /v1/chats/{chat_id}/messages/{message_id}/feedback': {
    as: 'owner',
    body: () => ({ rating: 'down', comment: 'Missed the point.' }),
  },
  'POST /v1/chat/completions': {
    as: 'owner',
    body: ({ chatBotId }) => ({
      model: chatBotId,
      messages: [{ role: 'user', content: 'How many days of leave?' }],
      stream: false,
      stream_options: { include_usage: true },
    }),
  },
  'POST /v1/responses': {
    as: 'owner',
    body: ({ chatBotId }) => ({
      model: chatBotId,
      // Text input: `input` is text or messages, so an array turned into a string would still be valid.
      input: 'How many days of leave?',
      stream: false,
    }),
  },
};
/** The body limit the app applies to a path (a file sent in the request may be larger). */
const limitFor = (path: string) => (path === '/v1/sources' ? 200_000 : MAX_JSON_BODY_BYTES);

function fullBot(name: string) {
  return {
    name,
    provider: 'openai-compatible',
    model: 'llama-3.1-8b',
    base_url: 'https://models.example.com/v1',
    temperature: 0.2,
    max_output_tokens: 512,
    max_input_tokens: 8000,
    system_prompt: 'Answer from the sources.',
    retrieval: { top_k: 5, score_threshold: 0.3, tags: ['docs'] },
    credentials: { api_key: 'sk-compat-0123456789', organization: 'org-1' },
  };
}

const doc = await openApiDocument();
/** Every operation that takes a request body. */
const writeOps = operations(doc, (path, method) => Boolean(doc.paths[path]?.[method]?.requestBody));
const idOps = operations(doc, (path) => path.includes('{id}'));
/**
 * OpenAI clients name models like 'gpt-4o': GET /v1/models/{id} answers any id it does not know with
 * OpenAI's 404 (model not found), as the OpenAI API does, instead of a 400 about the UUID.
 */
const MODEL_ROUTE = '/v1/models/{id}';
const listOps = operations(doc, (path, method) =>
  Boolean(
    method === 'get' && doc.paths[path]?.get?.parameters?.some((p: { name: string }) => p.name === 'cursor'),
  ),
);
const keyOf = (op: { path: string; method: HttpMethod }) => `${op.method.toUpperCase()} ${op.path}`;
const bodySchema = (op: { path: string; method: HttpMethod }) =>
  resolveRef(doc, doc.paths[op.path]?.[op.method]?.requestBody?.content?.['application/json']?.schema);

/**
 * Stands in for the real ids when deciding, before any test runs, which cases a body calls for: only the
 * shape of a sample body matters there. A case that does not apply (no required field in a PATCH, no enum,
 * no number) is not generated, rather than generated and passing with nothing checked.
 */
const SHAPE_CTX: Ctx = {
  t: {
    id: asTenantId('00000000-0000-4000-8000-000000000000'),
    slug: 'shape',
    ownerId: 'id',
    ownerEmail: 'owner@shape.test',
    apiToken: 'token',
    apiTokenId: 'id',
  },
  ownerJwt: 'jwt',
  visitorToken: 'token',
  visitorChatId: 'id',
  memberId: 'id',
  botId: 'id',
  chatId: 'id',
  messageId: 'id',
  chatBotId: 'id',
};
const sampleShape = (op: { path: string; method: HttpMethod }) =>
  WRITE_ROUTES[keyOf(op)]?.body(SHAPE_CTX) ?? {};
const hasRequiredFields = (op: { path: string; method: HttpMethod }) =>
  requiredPaths(doc, bodySchema(op)).length > 0;
const hasEnumFields = (op: { path: string; method: HttpMethod }) => enumPaths(doc, bodySchema(op)).length > 0;
const hasNumberFields = (op: { path: string; method: HttpMethod }) =>
  nodes(sampleShape(op)).some((n) => typeof n.value === 'number');

describe.each(databaseKinds())('bad input on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let ctx: Ctx;

  beforeAll(async () => {
    database = await kind.create();
    app = createApiApp(testPlatform(database));
    const t = await createTestTenant(app, 'bad-input');
    const member = await createTestUser(app, t, 'member');
    const bot = await createTestBot(app, t.apiToken);
    const chat = await createTestChat(app, t.apiToken);
    const { key } = await createPublishableKey(app, t.apiToken, chat.botId);
    const visitor = await visitorToken(app, key);
    ctx = {
      t,
      memberId: member.id,
      botId: bot.id,
      chatId: chat.id,
      messageId: await createTestAnswer(app, t.apiToken, chat.id),
      chatBotId: chat.botId,
      ownerJwt: await login(app, t),
      visitorToken: visitor,
      visitorChatId: await visitorChat(app, visitor),
    };
  });
  afterAll(() => database.dispose());

  const tokenFor = (route: WriteRoute) =>
    route.as === 'owner'
      ? ctx.t.apiToken
      : route.as === 'owner-session'
        ? ctx.ownerJwt
        : route.as === 'platform-admin'
          ? TEST_ADMIN_TOKEN
          : route.as === 'visitor'
            ? ctx.visitorToken
            : undefined;
  /** A website visitor's requests come from the key's site. */
  const originFor = (route: WriteRoute | undefined): Record<string, string> =>
    route?.as === 'visitor' ? { origin: SITE } : {};
  const urlOf = (path: string, route: WriteRoute) =>
    (route.id ? path.replace('{id}', route.id(ctx)) : path)
      .replace('{chat_id}', ctx.chatId)
      .replace('{message_id}', ctx.messageId);

  /** Sends every bad request, expects a 4xx problem for each, and checks that nothing was written. */
  async function expectAllRefused(
    op: { path: string; method: HttpMethod },
    requests: { body: unknown; status?: number; mentions?: string; headers?: Record<string, string> }[],
  ) {
    const route = WRITE_ROUTES[keyOf(op)];
    if (!route) throw new Error(`No bad-input fixture for ${keyOf(op)}: add one to WRITE_ROUTES`);
    expect(requests.length).toBeGreaterThan(0);
    const before = [await tenantSnapshot(database.db, ctx.t.id), await countTenants(database.db)];
    for (const r of requests) {
      const res = await call(app, op.method.toUpperCase(), urlOf(op.path, route), {
        token: tokenFor(route),
        body: r.body,
        headers: { ...originFor(route), ...r.headers },
      });
      expect(res.status, `${JSON.stringify(r.body)?.slice(0, 200)} → ${res.text}`).not.toBe(500);
      expectProblem(res, r.status ?? 400, r.mentions);
    }
    expect([await tenantSnapshot(database.db, ctx.t.id), await countTenants(database.db)]).toEqual(before);
  }

  const sample = (op: { path: string; method: HttpMethod }) => {
    const route = WRITE_ROUTES[keyOf(op)];
    if (!route) throw new Error(`No bad-input fixture for ${keyOf(op)}: add one to WRITE_ROUTES`);
    return route.body(ctx);
  };

  it('when the OpenAPI document lists the routes that take a body then each has a fixture here', () => {
    expect(new Set(writeOps.map(keyOf))).toEqual(new Set(Object.keys(WRITE_ROUTES)));
  });

  describe.each(writeOps.map((op) => [keyOf(op), op] as const))('%s', (_, op) => {
    it('when a field has the wrong type then 400 naming the field, and nothing is written', async () => {
      const body = sample(op);
      await expectAllRefused(
        op,
        nodes(body).map(({ path, value }) => ({
          body: withValue(body, path, wrongTypeFor(value)),
          mentions: lastKey(path),
        })),
      );
    });

    // Not generated where every field is optional (a PATCH).
    if (hasRequiredFields(op))
      it('when a required field is missing then 400 naming it, and nothing is written', async () => {
        const body = sample(op);
        const paths = requiredPaths(doc, bodySchema(op));
        await expectAllRefused(op, [
          ...paths.map((path) => ({
            body: withValue(body, path, REMOVE),
            mentions: `${lastKey(path)}: is required`,
          })),
          ...(bodySchema(op)?.required?.length ? [{ body: {} }] : []),
        ]);
      });

    it('when the body is not a JSON object (400) or not declared as JSON (415), and nothing is written', async () => {
      const body = sample(op);
      await expectAllRefused(op, [
        { body: '{"name": ' },
        { body: `${JSON.stringify(body)},` },
        { body: '[]' },
        { body: 'null' },
        { body: '"text"' },
        { body: JSON.stringify(body), headers: { 'content-type': 'text/plain' }, status: 415 },
      ]);
    });

    it(`when the body is larger than the limit (${limitFor(op.path)} bytes) then 413, and nothing is written`, async () => {
      const body = { ...sample(op), padding: 'x'.repeat(limitFor(op.path)) };
      await expectAllRefused(op, [{ body, status: 413 }]);
    });

    it('when a string contains a NUL character then 400 naming the field, and nothing is written', async () => {
      const body = sample(op);
      const strings = nodes(body).filter((n) => typeof n.value === 'string');
      await expectAllRefused(
        op,
        strings.map(({ path }) => ({ body: withValue(body, path, 'a\u0000b'), mentions: lastKey(path) })),
      );
    });

    if (hasEnumFields(op))
      it('when an enum field has an unknown value then 400 naming it, and nothing is written', async () => {
        const body = sample(op);
        const paths = enumPaths(doc, bodySchema(op));
        await expectAllRefused(
          op,
          paths.map((path) => ({ body: withValue(body, path, 'no-such-option'), mentions: lastKey(path) })),
        );
      });

    if (hasNumberFields(op))
      it('when a number is far out of range then 400 naming it, and nothing is written', async () => {
        const body = sample(op);
        const numbers = nodes(body).filter((n) => typeof n.value === 'number');
        await expectAllRefused(
          op,
          numbers.flatMap(({ path }) =>
            [1e12, -1e12].map((n) => ({ body: withValue(body, path, n), mentions: lastKey(path) })),
          ),
        );
      });

    it('when the sample body is sent then it succeeds (the refusals above are about the input)', async () => {
      const route = WRITE_ROUTES[keyOf(op)]!;
      const res = await call(app, op.method.toUpperCase(), urlOf(op.path, route), {
        token: tokenFor(route),
        body: sample(op),
        headers: originFor(route),
      });
      expect(res.status, res.text).toBeLessThan(300);
    });
  });

  it.each(idOps.filter((op) => op.path !== MODEL_ROUTE).map((op) => [keyOf(op), op] as const))(
    'when %s gets an id that is not a UUID then 400 naming id',
    async (_, op) => {
      const route = WRITE_ROUTES[keyOf(op)];
      const website = op.path.startsWith('/v1/public/');
      const token = op.path.startsWith('/v1/tenants')
        ? TEST_ADMIN_TOKEN
        : website
          ? ctx.visitorToken
          : ctx.t.apiToken;
      for (const id of ['not-a-uuid', '1', "x'%20or%201=1--", '%00', `${ctx.botId}x`]) {
        const res = await call(app, op.method.toUpperCase(), op.path.replace('{id}', id), {
          token,
          body: route?.body(ctx),
          headers: website ? { origin: SITE } : {},
        });
        expectProblem(res, 400, 'id');
      }
    },
  );

  it(`when GET ${MODEL_ROUTE} gets an id that is not a UUID then 404 model not found`, async () => {
    for (const id of ['gpt-4o', '1', "x'%20or%201=1--", '%00', `${ctx.botId}x`]) {
      const res = await call(app, 'GET', MODEL_ROUTE.replace('{id}', id), { token: ctx.t.apiToken });
      expectProblem(res, 404, 'Model not found');
    }
  });

  it.each(listOps.map((op) => op.path))(
    'when %s gets a bad cursor or limit then 400, never 500',
    async (path) => {
      const token = path.startsWith('/v1/tenants') ? TEST_ADMIN_TOKEN : ctx.t.apiToken;
      const cursorOf = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const bad = [
        'cursor=garbage',
        'cursor=%00',
        `cursor=${'a'.repeat(600)}`,
        `cursor=${cursorOf({ createdAt: '2024-01-01T00:00:00.000Z', id: 'not-a-uuid' })}`,
        `cursor=${cursorOf({ createdAt: '1', id: ctx.botId })}`,
        `cursor=${cursorOf({ createdAt: '2024-02-31T00:00:00.000Z', id: ctx.botId })}`,
        `cursor=${cursorOf(['2024-01-01', ctx.botId])}`,
        'limit=0',
        'limit=-5',
        'limit=abc',
        'limit=1000',
      ];
      for (const query of bad) {
        const res = await call(app, 'GET', `${path}?${query}`, { token });
        expect(res.status, `${query} → ${res.text}`).not.toBe(500);
        expectProblem(res, 400);
      }
    },
  );
});
