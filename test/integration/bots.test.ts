import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { parseEnvelope } from '#shared/crypto/envelope.ts';
import { sql } from '#shared/db/sql.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import { findBotCredentials } from '#shared/repositories/bots.ts';
import { openBotCredentials } from '#shared/usecases/bots.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestBot,
  createTestTenant,
  expectProblem,
  mintToken,
  type TestTenant,
} from '#test/fixtures/tenants.ts';

describe.each(databaseKinds())('bot profiles on $name', (kind) => {
  let database: TestDatabase;
  let platform: ReturnType<typeof testPlatform>;
  let app: ReturnType<typeof createApiApp>;
  let t: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    platform = testPlatform(database);
    app = createApiApp(platform);
    t = await createTestTenant(app, 'bots');
  });
  afterAll(() => database.dispose());

  const bots = (method: string, path = '', body?: unknown) =>
    call(app, method, `/v1/bots${path}`, { token: t.apiToken, body });

  it('when a bot is created, read, changed and deleted then each step answers as documented', async () => {
    const created = await bots('POST', '', {
      name: 'Support',
      provider: 'anthropic',
      system_prompt: 'Be brief.',
      temperature: 0.5,
      retrieval: { top_k: 8, tags: ['faq'] },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Support',
      provider: 'anthropic',
      model: 'claude-3-5-haiku-latest', // the provider's default
      temperature: 0.5,
      retrieval: { top_k: 8, score_threshold: null, tags: ['faq'] },
      credentials: { configured: false, last4: null },
    });
    const id = created.body.id as string;

    expect((await bots('GET', `/${id}`)).body).toEqual(created.body);

    const changed = await bots('PATCH', `/${id}`, {
      name: 'Helpdesk',
      temperature: null,
      retrieval: { score_threshold: 0.4 },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      name: 'Helpdesk',
      provider: 'anthropic',
      temperature: null,
      system_prompt: 'Be brief.',
      retrieval: { top_k: 8, score_threshold: 0.4, tags: ['faq'] },
    });
    expect(Date.parse(changed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.updated_at));

    expect((await bots('DELETE', `/${id}`)).status).toBe(204);
    expectProblem(await bots('GET', `/${id}`), 404);
    expectProblem(await bots('DELETE', `/${id}`), 404);
    expectProblem(await bots('PATCH', `/${id}`, { name: 'ghost' }), 404);
  });

  it('when a bot has no provider then it is valid (extractive answers)', async () => {
    const bot = await createTestBot(app, t.apiToken);
    expect(bot).toMatchObject({ provider: null, model: null, base_url: null });
  });

  it.each([
    ['an Anthropic bot names a GPT model', { provider: 'anthropic', model: 'gpt-4o' }, 'Anthropic'],
    ['an OpenAI bot names a Claude model', { provider: 'openai', model: 'claude-3-opus' }, 'anthropic'],
    ['openai-compatible has no base_url', { provider: 'openai-compatible', model: 'llama3' }, 'base_url'],
    [
      'a base_url is plain http',
      { provider: 'openai-compatible', model: 'm', base_url: 'http://models.example.com' },
      'https',
    ],
    [
      'a base_url is http://localhost without the local opt-in',
      { provider: 'openai-compatible', model: 'm', base_url: 'http://localhost:11434/v1' },
      'https',
    ],
    ['credentials come without a provider', { credentials: { api_key: 'sk-0123456789abcdef' } }, 'provider'],
    ['a model comes without a provider', { model: 'gpt-4o' }, 'provider'],
    [
      'the base_url is not a URL',
      { provider: 'openai-compatible', model: 'm', base_url: 'models.example.com' },
      'base_url',
    ],
    ['the provider is unknown', { provider: 'gemini' }, 'provider'],
  ])('when %s then 400 saying why', async (_, body, mentions) => {
    const res = await bots('POST', '', { name: 'invalid', ...body });
    expectProblem(res, 400, mentions);
  });

  it('when ALLOW_LOCAL_PROVIDER_URLS=true then http://localhost is accepted but other http hosts are not', async () => {
    const local = createApiApp(testPlatform(database, { env: { ALLOW_LOCAL_PROVIDER_URLS: 'true' } }));
    const post = (base_url: string) =>
      call(local, 'POST', '/v1/bots', {
        token: t.apiToken,
        body: { name: 'local', provider: 'openai-compatible', model: 'llama3', base_url },
      });
    for (const url of ['http://localhost:11434/v1', 'http://127.0.0.1:8080/v1', 'http://[::1]:8080/v1']) {
      expect((await post(url)).status, url).toBe(201);
    }
    expectProblem(await post('http://models.example.com/v1'), 400, 'localhost');
    expectProblem(await post('http://localhost.example.com/v1'), 400, 'localhost');
  });

  it('when a PATCH makes the combination invalid then 400 and the bot is unchanged', async () => {
    const bot = await createTestBot(app, t.apiToken, { provider: 'openai', model: 'gpt-4o-mini' });
    expectProblem(await bots('PATCH', `/${bot.id}`, { model: 'claude-3-opus' }), 400);
    expectProblem(await bots('PATCH', `/${bot.id}`, { provider: 'openai-compatible' }), 400, 'model');
    expectProblem(
      await bots('PATCH', `/${bot.id}`, { provider: 'openai-compatible', model: 'llama3' }),
      400,
      'base_url',
    );
    expectProblem(await bots('PATCH', `/${bot.id}`, { model: null }), 400, 'model');
    expect((await bots('GET', `/${bot.id}`)).body).toEqual(bot);
  });

  it('when the provider is switched then the old key is dropped; credentials: null removes a key', async () => {
    const bot = await createTestBot(app, t.apiToken, {
      provider: 'openai',
      credentials: { api_key: 'sk-first-key-0001' },
    });
    expect(bot.credentials).toEqual({ configured: true, last4: '…0001' });

    const switched = await bots('PATCH', `/${bot.id}`, { provider: 'anthropic' });
    expect(switched.body).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-haiku-latest' });
    expect(switched.body.credentials).toEqual({ configured: false, last4: null });

    const keyed = await bots('PATCH', `/${bot.id}`, { credentials: { api_key: 'sk-ant-second-0002' } });
    expect(keyed.body.credentials).toEqual({ configured: true, last4: '…0002' });
    const renamed = await bots('PATCH', `/${bot.id}`, { name: 'kept key', provider: 'anthropic' });
    expect(renamed.body.credentials).toEqual({ configured: true, last4: '…0002' }); // same provider: kept

    const removed = await bots('PATCH', `/${bot.id}`, { credentials: null });
    expect(removed.body.credentials).toEqual({ configured: false, last4: null });
    const [row] = await database.db.withTenant(t.id, (tx) =>
      tx.query<{ credentials: unknown; credentials_last4: unknown }>(
        sql`select credentials, credentials_last4 from bot_profiles where id = ${bot.id}`,
      ),
    );
    expect(row).toEqual({ credentials: null, credentials_last4: null });
  });

  it('when a key is stored then its envelope opens under its own bot context only', async () => {
    const key = 'sk-vault-check-abcdefgh';
    const bot = await createTestBot(app, t.apiToken, {
      provider: 'openai',
      credentials: { api_key: key, organization: 'org-9' },
    });
    const other = await createTestBot(app, t.apiToken);
    const tenantId = asTenantId(t.id);

    const stored = await database.db.withTenant(tenantId, (tx) => findBotCredentials(tx, tenantId, bot.id));
    const opened = await openBotCredentials(stored, tenantId, bot.id, platform.vault);
    expect(opened).toEqual({ apiKey: key, organization: 'org-9' });

    const [row] = await database.db.withTenant(tenantId, (tx) =>
      tx.query<{ credentials: unknown }>(sql`select credentials from bot_profiles where id = ${bot.id}`),
    );
    const envelope = parseEnvelope(row?.credentials);
    const ctx = { tenantId, botProfileId: bot.id, purpose: 'bot-credentials' } as const;
    expect(JSON.parse(await platform.vault.decrypt(envelope, ctx))).toEqual({
      apiKey: key,
      organization: 'org-9',
    });
    await expect(platform.vault.decrypt(envelope, { ...ctx, botProfileId: other.id })).rejects.toThrow();
    const otherTenant = await createTestTenant(app, 'elsewhere');
    await expect(platform.vault.decrypt(envelope, { ...ctx, tenantId: otherTenant.id })).rejects.toThrow();
  });

  it('when a token lacks bots:write then it can read bots but not create, change or delete them', async () => {
    const bot = await createTestBot(app, t.apiToken);
    const reader = await mintToken(app, t.apiToken, { scopes: ['read', 'chat'] });
    const as = (method: string, path: string, body?: unknown) =>
      call(app, method, `/v1/bots${path}`, { token: reader.token, body });
    expect((await as('GET', `/${bot.id}`)).status).toBe(200);
    expectProblem(await as('POST', '', { name: 'x' }), 403, 'bots:write');
    expectProblem(await as('PATCH', `/${bot.id}`, { name: 'x' }), 403, 'bots:write');
    expectProblem(await as('DELETE', `/${bot.id}`), 403, 'bots:write');
  });

  it('when 25+ bots are listed page by page then every bot appears exactly once, in list order', async () => {
    const tenant = await createTestTenant(app, 'pages');
    const made: string[] = [];
    for (let i = 0; i < 25; i++)
      made.push((await createTestBot(app, tenant.apiToken, { name: `bot ${i}` })).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=7&cursor=${cursor}` : '?limit=7';
      const page = await call(app, 'GET', `/v1/bots${query}`, { token: tenant.apiToken });
      expect(page.status, page.text).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.data.map((b: { id: string }) => b.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    // Bots made in the same millisecond tie on created_at and are ordered by id: compare with one page.
    const all = await call(app, 'GET', '/v1/bots?limit=100', { token: tenant.apiToken });
    expect(all.body.next_cursor).toBeNull();
    expect(seen).toEqual(all.body.data.map((b: { id: string }) => b.id));
    expect(new Set(seen)).toEqual(new Set(made));
  });
});
