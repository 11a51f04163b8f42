import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { sql } from '#shared/db/sql.ts';
import { type FakeAnthropic, startFakeAnthropic } from '#test/fakes/anthropic-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import type { RecordedRequest } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const PLATFORM_OPENAI_KEY = 'sk-platform-openai-0123456789abcdef';
const PLATFORM_ANTHROPIC_KEY = 'sk-ant-platform-0123456789abcdef';
const TENANT_KEY = 'sk-tenant-own-key-0123456789';
const RULE = 'must carry its own API key';

/** Every header value a fake received, joined: where a leaked key would show up. */
const headersOf = (requests: readonly RecordedRequest[]) =>
  requests.map((r) => Object.values(r.headers).join('\n')).join('\n');

describe.each(databaseKinds())('platform provider keys go only to the operator endpoint on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let t: TestTenant;
  // The operator's configured endpoints (they accept only the platform keys)…
  let operatorOpenAi: FakeOpenAi;
  let operatorAnthropic: FakeAnthropic;
  // …and hosts a tenant chose, which accept any key and record what they were sent.
  let attackerOpenAi: FakeOpenAi;
  let attackerAnthropic: FakeAnthropic;

  beforeAll(async () => {
    operatorOpenAi = await startFakeOpenAi({ apiKey: PLATFORM_OPENAI_KEY });
    operatorAnthropic = await startFakeAnthropic({ apiKey: PLATFORM_ANTHROPIC_KEY });
    attackerOpenAi = await startFakeOpenAi({ apiKey: null });
    attackerAnthropic = await startFakeAnthropic({ apiKey: null });
    database = await kind.create();
    app = createApiApp(
      testPlatform(database, {
        providerKeys: { openai: PLATFORM_OPENAI_KEY, anthropic: PLATFORM_ANTHROPIC_KEY },
        // The fakes listen on http://127.0.0.1; this opt-in is what lets a bot name them at all.
        env: {
          OPENAI_BASE_URL: operatorOpenAi.url,
          ANTHROPIC_BASE_URL: operatorAnthropic.url,
          ALLOW_LOCAL_PROVIDER_URLS: 'true',
        },
      }),
    );
    t = await createTestTenant(app, 'keys');
  });
  afterAll(async () => {
    await database.dispose();
    for (const fake of [operatorOpenAi, operatorAnthropic, attackerOpenAi, attackerAnthropic])
      await fake.close();
  });
  beforeEach(() => {
    for (const fake of [operatorOpenAi, operatorAnthropic, attackerOpenAi, attackerAnthropic]) fake.reset();
  });

  const send = (method: string, path: string, body?: unknown) =>
    call(app, method, path, { token: t.apiToken, body });
  const ask = async (botId: string) => {
    const chat = await send('POST', '/v1/chats', { bot_id: botId });
    expect(chat.status, chat.text).toBe(201);
    return send('POST', `/v1/chats/${chat.body.id}/messages`, { content: 'What is a solar sail?' });
  };
  const attackerUrl = (provider: 'openai' | 'anthropic') =>
    provider === 'openai' ? attackerOpenAi.url : attackerAnthropic.url;
  const model = { openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest' } as const;

  it.each(['openai', 'anthropic'] as const)(
    'when a %s bot names a custom base_url without its own key then 400 naming the rule, nothing stored',
    async (provider) => {
      const before = await send('GET', '/v1/bots?limit=100');
      const res = await send('POST', '/v1/bots', {
        name: 'borrowed key',
        provider,
        model: model[provider],
        base_url: attackerUrl(provider),
      });
      expectProblem(res, 400, RULE);
      expect((await send('GET', '/v1/bots?limit=100')).body.data).toEqual(before.body.data);
    },
  );

  it('when a PATCH would leave a custom base_url without a key then 400 and the bot is unchanged', async () => {
    const plain = await send('POST', '/v1/bots', { name: 'platform key', provider: 'openai' });
    expect(plain.status, plain.text).toBe(201);
    expectProblem(
      await send('PATCH', `/v1/bots/${plain.body.id}`, { base_url: attackerOpenAi.url }),
      400,
      RULE,
    );
    expect((await send('GET', `/v1/bots/${plain.body.id}`)).body).toEqual(plain.body);

    const keyed = await send('POST', '/v1/bots', {
      name: 'own key',
      provider: 'openai',
      base_url: attackerOpenAi.url,
      credentials: { api_key: TENANT_KEY },
    });
    expect(keyed.status, keyed.text).toBe(201);
    expectProblem(await send('PATCH', `/v1/bots/${keyed.body.id}`, { credentials: null }), 400, RULE);
    // Switching provider drops the key, so it must come with a new one.
    expectProblem(
      await send('PATCH', `/v1/bots/${keyed.body.id}`, {
        provider: 'anthropic',
        base_url: attackerAnthropic.url,
      }),
      400,
      RULE,
    );
    expect((await send('GET', `/v1/bots/${keyed.body.id}`)).body).toEqual(keyed.body);
  });

  it.each(['openai', 'anthropic'] as const)(
    'when an old %s bot stored with a custom base_url and no key is asked then it is refused and the host never hears from us',
    async (provider) => {
      const bot = await send('POST', '/v1/bots', { name: 'legacy', provider, model: model[provider] });
      expect(bot.status, bot.text).toBe(201);
      // The state the API accepted before the rule: written straight into the row.
      await database.db.withTenant(t.id, (tx) =>
        tx.query(sql`update bot_profiles set base_url = ${attackerUrl(provider)} where id = ${bot.body.id}`),
      );
      expectProblem(await ask(bot.body.id), 400, RULE);
      expect(attackerOpenAi.requests).toEqual([]);
      expect(attackerAnthropic.requests).toEqual([]);
    },
  );

  it.each(['openai', 'anthropic'] as const)(
    'when a %s bot carries its own key and base_url then its host receives that key and never the platform key',
    async (provider) => {
      const bot = await send('POST', '/v1/bots', {
        name: 'own endpoint',
        provider,
        model: model[provider],
        base_url: attackerUrl(provider),
        credentials: { api_key: TENANT_KEY },
      });
      expect(bot.status, bot.text).toBe(201);
      const res = await ask(bot.body.id);
      expect(res.status, res.text).toBe(200);
      const seen = headersOf([...attackerOpenAi.requests, ...attackerAnthropic.requests]);
      expect(seen).toContain(TENANT_KEY);
      expect(seen).not.toContain(PLATFORM_OPENAI_KEY);
      expect(seen).not.toContain(PLATFORM_ANTHROPIC_KEY);
    },
  );

  it.each(['openai', 'anthropic'] as const)(
    'when a %s bot has no base_url and no key then the platform key goes to the operator endpoint',
    async (provider) => {
      const bot = await send('POST', '/v1/bots', { name: 'platform', provider, model: model[provider] });
      expect(bot.status, bot.text).toBe(201);
      const res = await ask(bot.body.id);
      expect(res.status, res.text).toBe(200);
      const operator = provider === 'openai' ? operatorOpenAi : operatorAnthropic;
      expect(operator.requests.length).toBeGreaterThan(0);
      expect(operator.requests.every((r) => r.status === 200)).toBe(true);
      expect(attackerOpenAi.requests).toEqual([]);
      expect(attackerAnthropic.requests).toEqual([]);
    },
  );
});
