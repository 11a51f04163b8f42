import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { pinnedProviderFetch } from '#shared/adapters/provider-endpoint.ts';
import { sql } from '#shared/db/sql.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import type { HostLookup } from '#shared/rag/fetch/index.ts';
import { type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const KEY = { api_key: 'sk-tenant-own-0123456789' };
/** What an internal service answers; none of it may reach the tenant. */
const INTERNAL_TEXT = 'INTERNAL-ONLY admin console: db password is hunter2';

const resolvesTo =
  (table: Record<string, string[]>): HostLookup =>
  async (host) =>
    (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('a bot base_url host is connected to only at its checked, pinned addresses', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await startFakeOpenAi({ apiKey: null });
  });
  afterAll(() => fake.close());

  const port = () => new URL(fake.url).port;
  const chat = async (f: typeof fetch, host: string) =>
    f(`http://${host}:${port()}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x-0123456789' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('when a host name resolves to loopback in local mode then the request goes to that address', async () => {
    const lookup = resolvesTo({ 'models.example': ['127.0.0.1'] });
    const f = await pinnedProviderFetch(`http://models.example:${port()}/v1`, {
      allowLoopback: true,
      lookup,
    });
    const before = fake.requests.length;
    expect((await chat(f, 'models.example')).status).toBe(200);
    expect(fake.requests.length).toBe(before + 1);
  });

  it.each([
    [['10.0.0.7'], 'a private address'],
    [['93.184.216.34', '127.0.0.1'], 'a loopback address'],
    [['169.254.169.254'], 'a link-local address'],
    [['::7f00:1'], 'embeds an IPv4 address'],
  ])(
    'when the host resolves to %j then it is refused as %s before any connection',
    async (addresses, reason) => {
      const lookup = resolvesTo({ 'models.example': addresses });
      const before = fake.requests.length;
      const error = await pinnedProviderFetch(`https://models.example:${port()}/v1`, {
        allowLoopback: false,
        lookup,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(reason);
      expect(fake.requests.length).toBe(before);
    },
  );

  it('when a request names another origin than the base_url then it is refused', async () => {
    const lookup = resolvesTo({ 'models.example': ['127.0.0.1'] });
    const f = await pinnedProviderFetch(`http://models.example:${port()}/v1`, {
      allowLoopback: true,
      lookup,
    });
    await expect(chat(f, '127.0.0.1')).rejects.toThrow(/origin/);
  });
});

describe.each(databaseKinds())('bot base_url SSRF guard on $name', (kind) => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;
  let local: ReturnType<typeof createApiApp>;
  let t: TestTenant;
  let internal: Server;
  let internalUrl: string;
  let internalHits = 0;

  beforeAll(async () => {
    internal = createServer((_req, res) => {
      internalHits++;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: INTERNAL_TEXT, type: 'invalid_request_error' } }));
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/v1`;
    database = await kind.create();
    app = createApiApp(testPlatform(database));
    local = createApiApp(testPlatform(database, { env: { ALLOW_LOCAL_PROVIDER_URLS: 'true' } }));
    t = await createTestTenant(app, 'ssrf');
  });
  afterAll(async () => {
    await database.dispose();
    await new Promise((resolve) => internal.close(resolve));
  });

  const ask = async (target: typeof app, botId: string) => {
    const chat = await call(target, 'POST', '/v1/chats', { token: t.apiToken, body: { bot_id: botId } });
    expect(chat.status, chat.text).toBe(201);
    return call(target, 'POST', `/v1/chats/${chat.body.id}/messages`, {
      token: t.apiToken,
      body: { content: 'What is a solar sail?' },
    });
  };

  it.each([
    'https://127.0.0.1:8443/v1',
    'https://10.0.0.1/v1',
    'https://169.254.169.254/latest',
    'https://[::1]/v1',
    'https://[::ffff:10.0.0.1]/v1',
    'https://[::a9fe:a9fe]/v1',
    'https://localhost/v1',
    'https://0x7f.1/v1',
  ])('when a bot is created with base_url %s then 400 and no bot is stored', async (base_url) => {
    const before = await call(app, 'GET', '/v1/bots?limit=100', { token: t.apiToken });
    const res = await call(app, 'POST', '/v1/bots', {
      token: t.apiToken,
      body: { name: 'inside', provider: 'openai-compatible', model: 'm', base_url, credentials: KEY },
    });
    expectProblem(res, 400, 'public server');
    const after = await call(app, 'GET', '/v1/bots?limit=100', { token: t.apiToken });
    expect(after.body.data).toEqual(before.body.data);
  });

  it('when a bot was stored with a loopback base_url and local URLs are off then the chat is refused unconnected', async () => {
    const bot = await call(app, 'POST', '/v1/bots', {
      token: t.apiToken,
      body: {
        name: 'legacy',
        provider: 'openai-compatible',
        model: 'm',
        base_url: 'https://models.example.com/v1',
        credentials: KEY,
      },
    });
    expect(bot.status, bot.text).toBe(201);
    await database.db.withTenant(t.id, (tx) =>
      tx.query(sql`update bot_profiles set base_url = ${internalUrl} where id = ${bot.body.id}`),
    );
    const hits = internalHits;
    expectProblem(await ask(app, bot.body.id), 400, 'loopback');
    expect(internalHits).toBe(hits);
  });

  it("when the bot's own server answers an error then its text is not echoed", async () => {
    const bot = await call(local, 'POST', '/v1/bots', {
      token: t.apiToken,
      body: {
        name: 'echo',
        provider: 'openai-compatible',
        model: 'm',
        base_url: internalUrl,
        credentials: KEY,
      },
    });
    expect(bot.status, bot.text).toBe(201);
    const hits = internalHits;
    const res = await ask(local, bot.body.id);
    expect(internalHits).toBeGreaterThan(hits);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.text).not.toContain('INTERNAL-ONLY');
    expect(res.text).not.toContain('hunter2');
  });
});
