import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { recordUsage, tokensThisMonth } from '#shared/repositories/usage.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN } from '#test/fixtures/platform.ts';
import { type ChatHarness, openAiReportedUsage, parseSse, startChatHarness } from '#test/fixtures/sse.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';

describe.each(databaseKinds())('chat quotas on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  /** A tenant made by the platform admin with these quotas; returns its id and first API token. */
  async function tenantWithQuotas(quotas: Record<string, number>) {
    const slug = `quota-${randomBytes(4).toString('hex')}`;
    const res = await call(h.api, 'POST', '/v1/tenants', {
      token: TEST_ADMIN_TOKEN,
      body: { name: slug, slug, owner_email: `owner@${slug}.test`, quotas },
    });
    expect(res.status, res.text).toBe(201);
    return { id: asTenantId(res.body.tenant.id), token: res.body.api_token.token as string };
  }
  const chatRequests = () => h.openai.requests.filter((r) => r.endpoint === 'chat').length;
  async function expectQuotaProblem(res: Response) {
    const text = await res.text();
    expect(res.status, text).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    return { problem: JSON.parse(text), retryAfter };
  }

  it('when the monthly token budget is already used up then 429 comes before the provider is called', async () => {
    const tenant = await tenantWithQuotas({ monthly_token_budget: 10 });
    await h.platform.db.withTenant(tenant.id, (tx) =>
      recordUsage(tx, tenant.id, {
        kind: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini',
        inputTokens: 40,
        outputTokens: 5,
      }),
    );
    const chatId = await h.chat(await h.bot('openai', {}, tenant.token), tenant.token);
    const before = chatRequests();

    const { problem, retryAfter } = await expectQuotaProblem(
      await h.ask(chatId, QUESTION, { token: tenant.token }),
    );
    expect(problem.detail).toMatch(/monthly budget of 10 tokens is used up \(45 used\)/);
    const now = new Date();
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((nextMonth - now.getTime()) / 1000) + 1);
    expect(chatRequests()).toBe(before);
    const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: tenant.token });
    expect(saved.body.messages).toEqual([]);

    // The OpenAI-compatible endpoint is held to the same budget.
    const completion = await h.stream.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: (saved.body as { bot_id: string }).bot_id,
        messages: [{ role: 'user', content: QUESTION }],
      }),
    });
    await expectQuotaProblem(completion);
    expect(chatRequests()).toBe(before);
  });

  it('when the tenant is under its monthly budget then it may ask', async () => {
    const tenant = await tenantWithQuotas({ monthly_token_budget: 1_000_000 });
    const chatId = await h.chat(await h.bot('openai', {}, tenant.token), tenant.token);
    const res = await h.ask(chatId, QUESTION, { token: tenant.token });
    expect(res.status).toBe(200);
    expect(parseSse(await res.text()).at(-1)?.event).toBe('done');
  });

  it('when requests_per_minute is 1 then a second question within the minute is refused with 429', async () => {
    const tenant = await tenantWithQuotas({ requests_per_minute: 1 });
    const chatId = await h.chat(await h.bot('openai', {}, tenant.token), tenant.token);
    const first = await h.ask(chatId, QUESTION, { token: tenant.token });
    expect(first.status).toBe(200);
    expect(parseSse(await first.text()).at(-1)?.event).toBe('done');
    const before = chatRequests();

    const { problem, retryAfter } = await expectQuotaProblem(
      await h.ask(chatId, 'And what about ion thrusters?', { token: tenant.token }),
    );
    expect(problem.detail).toMatch(/limit of 1 chat requests per minute/);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(chatRequests()).toBe(before);
    const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: tenant.token });
    expect(saved.body.messages).toHaveLength(2); // only the first exchange
  });

  // Boundaries: `used >= limit` refuses; a tenant one short of its limit may still ask.
  const recordChat = (tenant: { id: ReturnType<typeof asTenantId> }, tokens: number) =>
    h.platform.db.withTenant(tenant.id, (tx) =>
      recordUsage(tx, tenant.id, {
        kind: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini',
        inputTokens: tokens,
        outputTokens: 0,
      }),
    );

  /** Asks one question in a fresh chat with a fresh bot of `tenant`. */
  const askAs = async (tenant: Awaited<ReturnType<typeof tenantWithQuotas>>) =>
    h.ask(await h.chat(await h.bot('openai', {}, tenant.token), tenant.token), QUESTION, tenant);

  it.each([
    {
      limit: 'the tokens used equal the monthly budget exactly',
      quotas: { monthly_token_budget: 100 } as Record<string, number>,
      usedAt: [100],
      usedUnder: [99],
    },
    {
      limit: 'the requests of the last minute equal requests_per_minute exactly',
      quotas: { requests_per_minute: 2 } as Record<string, number>,
      usedAt: [1, 1],
      usedUnder: [1],
    },
  ])('when $limit then 429; one under then 200', async ({ quotas, usedAt, usedUnder }) => {
    const at = await tenantWithQuotas(quotas);
    for (const tokens of usedAt) await recordChat(at, tokens);
    await expectQuotaProblem(await askAs(at));

    const under = await tenantWithQuotas(quotas);
    for (const tokens of usedUnder) await recordChat(under, tokens);
    const res = await askAs(under);
    expect(res.status).toBe(200);
    expect(parseSse(await res.text()).at(-1)?.event).toBe('done');
  });

  const openReservations = async (tenantId: ReturnType<typeof asTenantId>) => {
    const [row] = await h.platform.db.withSystem((tx) =>
      tx.query<{ n: number }>(
        sql`select count(*)::int as n from quota_reservations where tenant_id = ${tenantId}`,
      ),
    );
    return row?.n;
  };

  /** An OpenAI-compatible streamed completion: one fresh conversation per request, so no rewrite call. */
  const complete = (token: string, botId: string, messages: { role: string; content: string }[]) =>
    h.stream.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: botId, messages, stream: true }),
    });
  const ask50 = async (token: string, botId: string) =>
    Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await complete(token, botId, [{ role: 'user', content: QUESTION }]);
        const text = await res.text();
        if (res.status === 200) expect(text).toContain('[DONE]');
        return res.status;
      }),
    );

  it('when 50 questions arrive at once at 3 requests per minute then exactly 3 are answered', async () => {
    const tenant = await tenantWithQuotas({ requests_per_minute: 3 });
    const botId = await h.bot('openai', {}, tenant.token);
    const before = chatRequests();
    const statuses = await ask50(tenant.token, botId);
    expect(statuses.filter((s) => s === 200).length, JSON.stringify(statuses)).toBe(3);
    expect(statuses.filter((s) => s === 429).length).toBe(47);
    expect(chatRequests() - before).toBe(3);
  });

  it("when 50 questions arrive at once then the budget is overrun by at most one request's reservation", async () => {
    const tenant = await tenantWithQuotas({ monthly_token_budget: 1_000_000 });
    const limits = { max_input_tokens: 500, max_output_tokens: 50 };
    const botId = await h.bot('openai', limits, tenant.token);
    const used = () =>
      h.platform.db.withTenant(tenant.id, (tx) => tokensThisMonth(tx, tenant.id, new Date()));
    // One request alone, to learn what a request costs; then room for three more.
    const first = await complete(tenant.token, botId, [{ role: 'user', content: QUESTION }]);
    expect(first.status).toBe(200);
    await first.text();
    const perRequest = await used();
    expect(perRequest).toBeGreaterThan(0);
    const budget = 4 * perRequest;
    const patched = await call(h.api, 'PATCH', `/v1/tenants/${tenant.id}`, {
      token: TEST_ADMIN_TOKEN,
      body: { quotas: { monthly_token_budget: budget } },
    });
    expect(patched.status, patched.text).toBe(200);

    const statuses = await ask50(tenant.token, botId);
    const answered = statuses.filter((s) => s === 200).length;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 429).length).toBe(50 - answered);
    // A reservation is at most the bot's input and output limits plus the embedded question.
    const reservation = limits.max_input_tokens + limits.max_output_tokens + countTokens(QUESTION);
    expect(await used()).toBeLessThanOrEqual(budget + reservation);
    expect(await openReservations(tenant.id)).toBe(0); // every admitted request settled
  });

  it('when the provider refuses the key then the reservation is given back and the next request is admitted', async () => {
    const tenant = await tenantWithQuotas({ requests_per_minute: 1 });
    const refused = await h.bot(
      'openai',
      { credentials: { api_key: 'sk-wrong-key-0123456789' } },
      tenant.token,
    );
    const res = await complete(tenant.token, refused, [{ role: 'user', content: QUESTION }]);
    expect(res.status, await res.text()).toBe(400);
    expect(await openReservations(tenant.id)).toBe(0);
    const ok = await complete(tenant.token, await h.bot('openai', {}, tenant.token), [
      { role: 'user', content: QUESTION },
    ]);
    expect(ok.status).toBe(200);
    await ok.text();
  });

  it("when a conversation is longer than the bot's max_input_tokens then the oldest turns are left out", async () => {
    const botId = await h.bot('openai', { max_input_tokens: 2000 });
    const long = (n: number) => `turn ${n}: ${'solar sails and ion thrusters '.repeat(300)}`;
    const res = await complete(h.tenant.apiToken, botId, [
      { role: 'user', content: long(1) },
      { role: 'assistant', content: long(2) },
      { role: 'user', content: long(3) },
      { role: 'assistant', content: 'Short answer.' },
      { role: 'user', content: QUESTION },
    ]);
    expect(res.status).toBe(200);
    const reply = parseSse(await res.text());
    expect(reply.at(-1)?.data).toBe('[DONE]');
    const sent = h.openai.requests.filter((r) => r.endpoint === 'chat').at(-1)!;
    const messages = sent.body?.messages as { content: string }[];
    expect(messages.at(-1)?.content).toContain(QUESTION);
    expect(messages.some((m) => m.content === 'Short answer.')).toBe(true);
    expect(messages.some((m) => m.content.startsWith('turn 1'))).toBe(false);
    expect(openAiReportedUsage(sent, '').input).toBeLessThanOrEqual(2000);
  });

  it("when the question alone is over the bot's max_input_tokens then 400 naming the limit, and no provider call", async () => {
    const botId = await h.bot('openai', { max_input_tokens: 500 });
    const before = chatRequests();
    const res = await complete(h.tenant.apiToken, botId, [
      { role: 'user', content: 'solar sails and ion thrusters '.repeat(200) },
    ]);
    const text = await res.text();
    expect(res.status, text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(text).detail).toMatch(/max_input_tokens/);
    expect(chatRequests()).toBe(before);
  });
});
