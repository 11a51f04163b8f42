import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { SCOPES } from '#shared/domain/auth-context.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, testPlatform } from '#test/fixtures/platform.ts';
import {
  countTenants,
  createTestAnswer,
  createTestBot,
  createTestChat,
  createTestSource,
  createTestTenant,
  createTestUser,
  type HttpMethod,
  mintToken,
  openApiDocument,
  operations,
  type TestTenant,
  tenantSnapshot,
} from '#test/fixtures/tenants.ts';

/**
 * Every route × every credential that should not pass it → 403 and nothing written. Who may call a route
 * is read from its OpenAPI security requirement (`requires(...)` in the route), so a new route without one
 * fails here, and so does a route whose use case forgets to check what it declares.
 */
const doc = await openApiDocument();
const ops = operations(doc, () => true);
const keyOf = (op: { path: string; method: HttpMethod }) => `${op.method.toUpperCase()} ${op.path}`;
const requirementOf = (op: { path: string; method: HttpMethod }): string[] | undefined => {
  const security = doc.paths[op.path]?.[op.method]?.security as Record<string, string[]>[] | undefined;
  return security?.flatMap((s) => Object.values(s).flat());
};

interface Ids {
  readonly t: TestTenant;
  readonly userId: string;
  readonly botId: string;
  readonly chatId: string;
  readonly sourceId: string;
  readonly tokenId: string;
  /** An answer in the chat (it has a trace). */
  readonly messageId: string;
  readonly publishableKeyId: string;
}

/** A valid body per route with a body: the only refusal left to give is about the credential. */
const BODIES: Record<string, (ids: Ids) => unknown> = {
  'POST /v1/tenants': () => ({ name: 'Scope Co', owner_email: 'owner@scope.test' }),
  'PATCH /v1/tenants/{id}': () => ({ name: 'Renamed' }),
  'POST /v1/auth/token': () => ({}),
  'POST /v1/users': () => ({ email: 'new@scope.test' }),
  'PATCH /v1/users/{id}': () => ({ name: 'Renamed Person' }),
  'POST /v1/api-tokens': () => ({ name: 'more', scopes: ['read'] }),
  'POST /v1/bots': () => ({ name: 'scoped bot' }),
  'PATCH /v1/bots/{id}': () => ({ name: 'renamed bot' }),
  'POST /v1/sources': () => ({ title: 'Scoped', type: 'text', content: 'Scoped content.' }),
  'POST /v1/sources/{id}/reingest': () => undefined,
  'POST /v1/sources/uploads': () => ({ filename: 'scoped.txt', content_type: 'text/plain', size_bytes: 10 }),
  'POST /v1/sources/{id}/complete': () => undefined,
  'POST /v1/chats': ({ botId }) => ({ bot_id: botId }),
  'POST /v1/chats/{id}/messages': () => ({ content: 'What is in the notes?' }),
  'POST /v1/chats/{chat_id}/messages/{message_id}/feedback': () => ({ rating: 'up' }),
  'POST /v1/chat/completions': ({ botId }) => ({
    model: botId,
    messages: [{ role: 'user', content: 'What is in the notes?' }],
  }),
  'POST /v1/responses': ({ botId }) => ({ model: botId, input: 'What is in the notes?' }),
  'POST /v1/bots/{id}/publishable-keys': () => ({ allowed_origins: ['https://help.example.com'] }),
  'POST /v1/public/chats': () => ({}),
  'POST /v1/public/chats/{id}/messages': () => ({ content: 'What is in the notes?' }),
};

/** The website routes: they take a publishable key or a visitor token, which no tenant credential is. */
const WEBSITE_REQUIREMENTS = ['publishable-key', 'visitor'];

function pathFor(template: string, ids: Ids): string {
  const id = template.startsWith('/v1/tenants')
    ? ids.t.id
    : template.startsWith('/v1/users')
      ? ids.userId
      : template.startsWith('/v1/bots') || template.startsWith('/v1/models')
        ? ids.botId
        : template.startsWith('/v1/chats')
          ? ids.chatId
          : template.startsWith('/v1/sources')
            ? ids.sourceId
            : ids.tokenId;
  return template.replace('{id}', id).replace('{chat_id}', ids.chatId).replace('{message_id}', ids.messageId);
}

const TENANT_SCOPES = SCOPES.filter((s) => s !== 'admin');

describe('every route declares who may call it', () => {
  it.each(ops.map((op) => [keyOf(op), op] as const))('%s has one security requirement', (_, op) => {
    const requirement = requirementOf(op);
    expect(requirement, `${keyOf(op)}: add security: requires(…) to the route`).toBeDefined();
    if (keyOf(op) === 'POST /v1/auth/token') expect(requirement).toEqual([]);
    else expect(requirement).toHaveLength(1);
  });
});

describe.each(databaseKinds())('scope matrix on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let ids: Ids;
  /** One token per scope (user tokens of the owner, so the role allows everything the scope does). */
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    database = await kind.create();
    app = createApiApp(testPlatform(database));
    const t = await createTestTenant(app, 'scopes');
    const user = await createTestUser(app, t, 'member');
    const chat = await createTestChat(app, t.apiToken);
    const source = await createTestSource(app, t.apiToken);
    const spare = await mintToken(app, t.apiToken, { scopes: ['read'] });
    const messageId = await createTestAnswer(app, t.apiToken, chat.id);
    const key = await call(app, 'POST', `/v1/bots/${chat.botId}/publishable-keys`, {
      token: t.apiToken,
      body: { allowed_origins: ['https://help.example.com'] },
    });
    ids = {
      t,
      userId: user.id,
      botId: chat.botId,
      chatId: chat.id,
      messageId,
      sourceId: source.id,
      tokenId: spare.id,
      publishableKeyId: key.body.id,
    };
    await createTestBot(app, t.apiToken);
    for (const scope of SCOPES) {
      tokens[scope] = (await mintToken(app, t.apiToken, { scopes: [scope] })).token;
      // A token's first use stamps last_used_at: not a write this matrix is about.
      await call(app, 'GET', '/v1/tenants/me', { token: tokens[scope] });
    }
    await call(app, 'GET', '/v1/tenants/me', { token: t.apiToken });
  });
  afterAll(() => database.dispose());

  it('when each route is called with each credential that lacks its requirement then 403 and nothing is written', async () => {
    const before = [await tenantSnapshot(database.db, ids.t.id), await countTenants(database.db)];
    const refusedWrongly: string[] = [];
    let checked = 0;
    for (const op of ops) {
      const [requirement] = requirementOf(op) ?? [];
      if (requirement === undefined) continue; // public (sign-in)
      if (WEBSITE_REQUIREMENTS.includes(requirement)) continue; // the next test
      const lacking =
        requirement === 'platform-admin'
          ? SCOPES
          : requirement === 'tenant'
            ? []
            : requirement === 'admin'
              ? TENANT_SCOPES
              : TENANT_SCOPES.filter((s) => s !== requirement);
      const body = BODIES[keyOf(op)];
      if (doc.paths[op.path]?.[op.method]?.requestBody && !body) {
        throw new Error(`No sample body for ${keyOf(op)}: add one to BODIES`);
      }
      for (const scope of lacking) {
        const res = await call(app, op.method.toUpperCase(), pathFor(op.path, ids), {
          token: tokens[scope],
          body: body?.(ids),
        });
        checked++;
        if (res.status !== 403) refusedWrongly.push(`${keyOf(op)} with a ['${scope}'] token → ${res.status}`);
      }
    }
    expect(refusedWrongly).toEqual([]);
    expect(checked).toBeGreaterThan(50);
    expect([await tenantSnapshot(database.db, ids.t.id), await countTenants(database.db)]).toEqual(before);
  });

  it('when a tenant credential or the platform admin calls a website route then 401 and nothing is written', async () => {
    const before = [await tenantSnapshot(database.db, ids.t.id), await countTenants(database.db)];
    const website = ops.filter((op) => WEBSITE_REQUIREMENTS.includes(requirementOf(op)?.[0] ?? ''));
    expect(website.length).toBeGreaterThanOrEqual(4);
    for (const op of website) {
      for (const token of [...Object.values(tokens), TEST_ADMIN_TOKEN]) {
        const res = await call(app, op.method.toUpperCase(), pathFor(op.path, ids), {
          token,
          body: BODIES[keyOf(op)]?.(ids),
          headers: { origin: 'https://help.example.com' },
        });
        expect(res.status, `${keyOf(op)} → ${res.text}`).toBe(401);
      }
    }
    expect([await tenantSnapshot(database.db, ids.t.id), await countTenants(database.db)]).toEqual(before);
  });

  it('when a tenant credential calls a platform route or the platform admin a tenant route then 403', async () => {
    for (const op of ops) {
      const [requirement] = requirementOf(op) ?? [];
      if (requirement === undefined || WEBSITE_REQUIREMENTS.includes(requirement)) continue;
      const token = requirement === 'platform-admin' ? ids.t.apiToken : TEST_ADMIN_TOKEN;
      const res = await call(app, op.method.toUpperCase(), pathFor(op.path, ids), {
        token,
        body: BODIES[keyOf(op)]?.(ids),
      });
      expect(res.status, `${keyOf(op)} → ${res.text}`).toBe(403);
    }
  });

  it("when a route's requirement is held then the same request is not refused for the credential", async () => {
    // Control: the 403s above are about scopes, not the sample requests (reads only, so nothing changes).
    for (const op of ops.filter((o) => o.method === 'get')) {
      const [requirement] = requirementOf(op) ?? [];
      if (requirement === 'platform-admin' || requirement === undefined) continue;
      if (WEBSITE_REQUIREMENTS.includes(requirement)) continue;
      const scope = requirement === 'tenant' ? 'chat' : requirement;
      const res = await call(app, 'GET', pathFor(op.path, ids), { token: tokens[scope] });
      expect(res.status, `${keyOf(op)} with ['${scope}'] → ${res.text}`).toBe(200);
    }
  });
});
