import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';
import {
  countTenants,
  createTestTenant,
  expectProblem,
  openApiDocument,
  operations,
  tenantSnapshot,
} from '#test/fixtures/tenants.ts';
import {
  createPublishableKey,
  SITE,
  startSession,
  visitorChat,
  visitorToken,
} from '#test/fixtures/visitors.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
const CONCURRENT = 50;
// Fifty answers at once on a shared machine: the races below take longer than the default 30 s.
vi.setConfig({ testTimeout: 180_000 });

const doc = await openApiDocument();
/** Every route that is not a website route, with a made-up id. */
const privateOps = operations(doc, (path) => !path.startsWith('/v1/public/'));

/**
 * The website side of tenant isolation: what a publishable key and a visitor token can reach (only the
 * key's bot, only the visitor's own chats), that revocation and origins hold, and that rate limits and
 * budgets hold under concurrency.
 */
describe.each(databaseKinds())('website visitors cannot reach beyond their own chats on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let botId: string;
  let key: { id: string; key: string };

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
    botId = await h.bot('openai');
    key = await createPublishableKey(h.api, h.tenant.apiToken, botId);
  }, 180_000);
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const ask = (chatId: string, token: string, origin = SITE, content = QUESTION) =>
    h.stream.request(`/v1/public/chats/${chatId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin },
      body: JSON.stringify({ content, stream: true }),
    });
  const chatCalls = () => h.openai.requests.filter((r) => r.endpoint === 'chat').length;
  /** Answers generated (streamed); a question asked after others is also rewritten, in a call of its own. */
  const generations = () =>
    h.openai.requests.filter((r) => r.endpoint === 'chat' && r.body?.stream === true).length;

  it('when a publishable key or a visitor token is used on any non-website route then 401/403 and nothing is written', async () => {
    const token = await visitorToken(h.stream, key.key);
    const before = [await tenantSnapshot(database.db, h.tenant.id), await countTenants(database.db)];
    const passed: string[] = [];
    for (const op of privateOps) {
      const path = op.path.replace('{id}', botId);
      for (const credential of [key.key, token]) {
        const res = await call(h.api, op.method.toUpperCase(), path, {
          token: credential,
          body: op.method === 'get' || op.method === 'delete' ? undefined : {},
          headers: { origin: SITE },
        });
        if (res.status !== 401 && res.status !== 403 && op.path !== '/v1/auth/token')
          passed.push(`${op.method} ${op.path} → ${res.status}`);
      }
    }
    expect(privateOps.length).toBeGreaterThan(20);
    expect(passed).toEqual([]);
    expect([await tenantSnapshot(database.db, h.tenant.id), await countTenants(database.db)]).toEqual(before);
  });

  it("when a visitor names another visitor's chat, a member's chat, another bot's or another tenant's then 404 and nothing is written", async () => {
    const mine = await visitorToken(h.stream, key.key);
    const theirs = await visitorToken(h.stream, key.key);
    const theirChat = await visitorChat(h.stream, theirs);
    const memberChat = await h.chat(botId);
    const otherBot = await h.bot('openai');
    const otherKey = await createPublishableKey(h.api, h.tenant.apiToken, otherBot);
    const otherBotChat = await visitorChat(h.stream, await visitorToken(h.stream, otherKey.key));
    const b = await createTestTenant(h.api, 'website-b');
    const botOfB = await h.bot('openai', {}, b.apiToken);
    const keyOfB = await createPublishableKey(h.api, b.apiToken, botOfB);
    const chatOfB = await visitorChat(h.stream, await visitorToken(h.stream, keyOfB.key));

    const before = [await tenantSnapshot(database.db, h.tenant.id), await tenantSnapshot(database.db, b.id)];
    const calls = chatCalls();
    for (const chatId of [theirChat, memberChat, otherBotChat, chatOfB]) {
      expectProblem(await asCall(await ask(chatId, mine)), 404);
      expectProblem(
        await call(h.stream, 'GET', `/v1/public/chats/${chatId}`, { token: mine, headers: { origin: SITE } }),
        404,
      );
    }
    expect(chatCalls()).toBe(calls);
    expect([await tenantSnapshot(database.db, h.tenant.id), await tenantSnapshot(database.db, b.id)]).toEqual(
      before,
    );
    // Control: the owner of each of those chats gets an answer.
    const own = await ask(theirChat, theirs);
    expect(own.status).toBe(200);
    expect(parseSse(await own.text()).at(-1)?.event).toBe('done');
  });

  it("when a visitor token is sent from an origin its key does not allow, or with another key's origin, then 403 before any provider call", async () => {
    const token = await visitorToken(h.stream, key.key);
    const chatId = await visitorChat(h.stream, token);
    const calls = chatCalls();
    const spoofed = await ask(chatId, token, 'https://evil.example.com');
    expect(spoofed.status).toBe(403);
    expect(spoofed.headers.get('access-control-allow-origin')).toBeNull();
    // Without any credential, a matching Origin alone opens nothing.
    const keyless = await h.stream.request(`/v1/public/chats/${chatId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: SITE },
      body: JSON.stringify({ content: QUESTION, stream: true }),
    });
    expect(keyless.status).toBe(401);
    expect(chatCalls()).toBe(calls);
  });

  it('when a visitor token is forged, expired or a user access token then 401', async () => {
    const token = await visitorToken(h.stream, key.key);
    const chatId = await visitorChat(h.stream, token);
    const [head, body] = token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, vid: 'someone-else' })).toString('base64url')}.${token.split('.')[2]}`;
    for (const bad of [forged, `${token}x`, 'not-a-token']) {
      expect((await ask(chatId, bad)).status).toBe(401);
    }
    const jwt = await call(h.api, 'POST', '/v1/auth/token', {
      body: { tenant: h.tenant.slug, email: h.tenant.ownerEmail, password: 'owner password 0123' },
    });
    expect((await ask(chatId, jwt.body.access_token)).status).toBe(401);
  });

  it(`when ${CONCURRENT} requests race a per-key limit of 5 then exactly 5 are answered and the rest get 429 with Retry-After`, async () => {
    const limited = await createPublishableKey(h.api, h.tenant.apiToken, botId, {
      rate_limit: { per_key_per_minute: 5 },
    });
    const visitors = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const token = await visitorToken(h.stream, limited.key);
        return { token, chatId: await visitorChat(h.stream, token) };
      }),
    );
    const calls = chatCalls();
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const v = visitors[i % visitors.length]!;
        const res = await ask(v.chatId, v.token);
        return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
      }),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    // The rest are refused: 429, or on a real server under heavy load a 503 from the connection pool's wait
    // deadline before admission (never admitted either way: the provider count below says so).
    expect(results.filter((r) => r.status !== 200 && r.status !== 429 && r.status !== 503)).toEqual([]);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(60);
    }
    expect(chatCalls() - calls).toBe(5);
  });

  it(`when ${CONCURRENT} requests of one visitor race a per-visitor limit of 3 then 3 are answered; another visitor still may ask`, async () => {
    const limited = await createPublishableKey(h.api, h.tenant.apiToken, botId, {
      rate_limit: { per_visitor_per_minute: 3 },
    });
    const token = await visitorToken(h.stream, limited.key);
    const chatId = await visitorChat(h.stream, token);
    const statuses = await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        const res = await ask(chatId, token);
        await res.text();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const other = await visitorToken(h.stream, limited.key);
    const res = await ask(await visitorChat(h.stream, other), other);
    expect(res.status).toBe(200);
    await res.text();
  });

  it(`when ${CONCURRENT} requests race a key's monthly token budget then it is overrun by at most one request's tokens`, async () => {
    // One answer costs some hundreds of tokens: the budget lets a couple through one after another.
    const budget = 1_000;
    const limited = await createPublishableKey(h.api, h.tenant.apiToken, botId, {
      monthly_token_budget: budget,
    });
    const token = await visitorToken(h.stream, limited.key);
    const chatIds = await Promise.all(Array.from({ length: 5 }, () => visitorChat(h.stream, token)));
    const calls = generations();
    const statuses: number[] = [];
    for (let round = 0; round < 2; round++) {
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: CONCURRENT }, async (_, i) => {
            const res = await ask(chatIds[i % chatIds.length]!, token);
            await res.text();
            return res.status;
          }),
        )),
      );
    }
    // Until the budget is reached, one request at a time is still admitted: the budget, not a lock, refuses.
    let last = 0;
    for (let i = 0; i < 10 && last !== 429; i++) {
      const res = await ask(chatIds[0]!, token);
      await res.text();
      last = res.status;
      statuses.push(last);
    }
    expect(last).toBe(429);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([]);
    expect(generations() - calls).toBe(admitted);
    const perRequest = await h.superuser.withSystem((tx) =>
      tx.query<{ tokens: number }>(sql`
        select sum(input_tokens + output_tokens)::int as tokens from usage_events
        where publishable_key_id = ${limited.id} group by chat_id, date_trunc('milliseconds', created_at)`),
    );
    const used = perRequest.reduce((sum, r) => sum + r.tokens, 0);
    const largest = Math.max(...perRequest.map((r) => r.tokens));
    expect(used).toBeGreaterThanOrEqual(budget);
    expect(used).toBeLessThanOrEqual(budget + largest);
  });

  it("when the tenant's own budget is used up then a visitor gets 429 without the tenant's numbers", async () => {
    const slug = `website-quota-${Date.now()}`;
    const tenant = await call(h.api, 'POST', '/v1/tenants', {
      token: TEST_ADMIN_TOKEN,
      body: { name: slug, slug, owner_email: `owner@${slug}.test`, quotas: { monthly_token_budget: 12_345 } },
    });
    const tenantId = asTenantId(tenant.body.tenant.id);
    const apiToken = tenant.body.api_token.token as string;
    await h.superuser.withSystem((tx) =>
      tx.query(sql`insert into usage_events (id, tenant_id, kind, provider, model, input_tokens)
        values (gen_random_uuid(), ${tenantId}, 'chat', 'openai', 'gpt-4o-mini', 20000)`),
    );
    const bot = await h.bot('openai', {}, apiToken);
    const k = await createPublishableKey(h.api, apiToken, bot);
    const token = await visitorToken(h.stream, k.key);
    const res = await ask(await visitorChat(h.stream, token), token);
    const problem = await asCall(res);
    expectProblem(problem, 429);
    expect(problem.text).not.toMatch(/12345|12,345|20000|tenant/);
    expect(Number(problem.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("when a visitor is answered then the tenant's members can read the answer's trace, and another tenant cannot", async () => {
    const token = await visitorToken(h.stream, key.key);
    const chatId = await visitorChat(h.stream, token);
    const res = await ask(chatId, token);
    expect(res.status).toBe(200);
    const [done] = dataOf(parseSse(await res.text()), 'done');
    const traceOf = (bearer: string) =>
      call(h.api, 'GET', `/v1/chats/${chatId}/messages/${done.message_id}/trace`, { token: bearer });
    const trace = await traceOf(h.tenant.apiToken);
    expect(trace.status, trace.text).toBe(200);
    expect(trace.body).toMatchObject({ message_id: done.message_id, chat_id: chatId, question: QUESTION });
    expect(trace.body.candidates.length).toBeGreaterThan(0);
    // The visitor's own token is not a member's credential, and tenant B sees nothing of A's.
    expect((await traceOf(token)).status).toBeGreaterThanOrEqual(401);
    const b = await createTestTenant(h.api, 'website-trace-b');
    expect((await traceOf(b.apiToken)).status).toBe(404);
  });

  it('when a session is started then no Origin-less or keyless request gets one', async () => {
    expectProblem(await startSession(h.stream, key.key, null), 403);
    expectProblem(await startSession(h.stream, 'mrag_pk_not-a-real-key', SITE), 401);
  });
});

/** A fetch Response in the shape `call` returns, for expectProblem. */
async function asCall(res: Response) {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  // biome-ignore lint/suspicious/noExplicitAny: inspected field by field like call()'s responses
  return { status: res.status, headers: res.headers, text, body: body as any };
}
