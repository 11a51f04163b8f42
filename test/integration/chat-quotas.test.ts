import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTenantId } from '#shared/domain/ids.ts';
import { recordUsage } from '#shared/repositories/usage.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN } from '#test/fixtures/platform.ts';
import { type ChatHarness, parseSse, startChatHarness } from '#test/fixtures/sse.ts';

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
});
