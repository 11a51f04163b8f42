import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createChatStreamApp } from '#functions/chat-stream/app.ts';
import { sql } from '#shared/db/sql.ts';
import { type FakeAnthropic, startFakeAnthropic } from '#test/fakes/anthropic-server.ts';
import { type BedrockBehaviour, type FakeBedrock, startFakeBedrock } from '#test/fakes/bedrock-server.ts';
import type { FakeBehaviour } from '#test/fakes/fake-behaviour.ts';
import { type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { ECHOED_KEY_HEADER } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { createTestTenant, login, type TestTenant } from '#test/fixtures/tenants.ts';

/** A recognisable fake provider key. */
const canary = () => `sk-LEAKCANARY-${randomBytes(12).toString('hex')}`;

/**
 * Every form in which a leaked key could appear: as-is, JSON-escaped, URL-encoded, and base64 /
 * base64url at each of the three byte alignments (minus the characters that depend on what surrounds it).
 */
function leakForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  for (const encoding of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.from(`${'\0'.repeat(offset)}${secret}`).toString(encoding);
      const start = offset === 0 ? 0 : 4;
      forms.add(encoded.slice(start, encoded.length - 4));
    }
  }
  return [...forms].filter((f) => f.length >= 16);
}

type Response = Awaited<ReturnType<typeof call>>;

const PROVIDERS = ['openai', 'anthropic'] as const;
/**
 * Every way a provider call fails, each answered by a fake that echoes the key in the error body and a
 * header. The 429 asks for a 1 ms wait, so the adapters' own retries cost nothing.
 */
const FAILURES: FakeBehaviour[] = [
  { kind: 'bad-request' },
  { kind: 'unauthorized' },
  { kind: 'forbidden' },
  { kind: 'rate-limited', retryAfter: 0.001 },
  { kind: 'server-error', status: 503 },
  { kind: 'stream-error', afterChunks: 2 },
];

describe.each(databaseKinds())('provider credentials never leak on $name', (kind) => {
  let database: TestDatabase;
  let platform: ReturnType<typeof testPlatform>;
  let app: ReturnType<typeof createApiApp>;
  let t: TestTenant;
  let jwt: string;
  const secrets: string[] = [];
  const visitorTokens: string[] = [];
  const responses: Response[] = [];

  /** Fake providers that accept any key and echo it back in every error (body and header). */
  let fakes: { openai: FakeOpenAi; anthropic: FakeAnthropic };
  /** Bedrock signs with the deployment's AWS credentials (the default chain): canaries too. */
  let bedrock: FakeBedrock;
  const savedEnv = { ...process.env };
  const aws = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: `LEAKCANARYsecret${randomBytes(12).toString('hex')}`,
    sessionToken: `LEAKCANARYtoken${randomBytes(40).toString('base64url')}`,
  };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = aws.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = aws.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = aws.sessionToken;
    secrets.push(aws.accessKeyId, aws.secretAccessKey, aws.sessionToken);
    bedrock = await startFakeBedrock({ echoCredentials: true });
    fakes = {
      openai: await startFakeOpenAi({ apiKey: null, echoKey: true }),
      anthropic: await startFakeAnthropic({ apiKey: null, echoKey: true }),
    };
    database = await kind.create();
    platform = testPlatform(database, {
      env: {
        OPENAI_BASE_URL: fakes.openai.url,
        ANTHROPIC_BASE_URL: fakes.anthropic.url,
        BEDROCK_ENDPOINT_URL: bedrock.url,
        BEDROCK_AGENT_RUNTIME_ENDPOINT_URL: bedrock.url,
      },
    });
    app = createApiApp(platform);
    t = await createTestTenant(app, 'leak');
    jwt = await login(app, t);
  });
  afterAll(async () => {
    await database.dispose();
    await fakes.openai.close();
    await fakes.anthropic.close();
    await bedrock.close();
    process.env = savedEnv;
  });

  /** Every response is kept and scanned at the end. */
  async function send(method: string, path: string, body?: unknown, token = t.apiToken): Promise<Response> {
    const res = await call(app, method, path, { token, body });
    responses.push(res);
    return res;
  }
  const planted = () => {
    const secret = canary();
    secrets.push(secret);
    return secret;
  };
  const expectMasked = (res: Response, secret: string) => {
    expect(res.status, res.text).toBeLessThan(300);
    expect(res.body.credentials).toEqual({ configured: true, last4: `…${secret.slice(-4)}` });
  };

  it('when a key is set by POST and PATCH then every read shows only configured + last4', async () => {
    const first = planted();
    const created = await send('POST', '/v1/bots', {
      name: 'leaky',
      provider: 'openai',
      credentials: { api_key: first },
    });
    expectMasked(created, first);
    const id = created.body.id as string;
    expectMasked(await send('GET', `/v1/bots/${id}`), first);
    expectMasked(await send('GET', `/v1/bots/${id}`, undefined, jwt), first);
    expect((await send('GET', '/v1/bots?limit=100')).status).toBe(200);

    const second = planted();
    expectMasked(
      await send('PATCH', `/v1/bots/${id}`, { credentials: { api_key: second, organization: 'org-x' } }),
      second,
    );
    expectMasked(await send('PATCH', `/v1/bots/${id}`, { name: 'renamed', temperature: 0.1 }), second);
    expectMasked(
      await send('PATCH', `/v1/bots/${id}`, { system_prompt: 'Answer briefly.', retrieval: { top_k: 3 } }),
      second,
    );
    expectMasked(await send('GET', `/v1/bots/${id}`), second);
    const listed = await send('GET', '/v1/bots');
    expect(listed.body.data.find((b: { id: string }) => b.id === id).credentials.last4).toBe(
      `…${second.slice(-4)}`,
    );
  });

  it('when requests carrying a key fail validation or authorization then no error echoes it', async () => {
    const bot = await send('POST', '/v1/bots', { name: 'target', provider: 'openai' });
    const id = bot.body.id as string;
    const bad: [string, string, unknown][] = [
      [
        'POST',
        '/v1/bots',
        { name: 'x', provider: 'anthropic', model: 'gpt-4o', credentials: { api_key: planted() } },
      ],
      ['POST', '/v1/bots', { name: 'x', credentials: { api_key: planted() } }],
      [
        'POST',
        '/v1/bots',
        { name: 'x', provider: 'openai-compatible', model: 'm', credentials: { api_key: planted() } },
      ],
      ['POST', '/v1/bots', { name: 'x', provider: 'gemini', credentials: { api_key: planted() } }],
      ['POST', '/v1/bots', { name: 'x', provider: 'openai', credentials: planted() }],
      [
        'POST',
        '/v1/bots',
        { name: 'x', provider: 'openai', credentials: { api_key: planted(), organization: 42 } },
      ],
      ['POST', '/v1/bots', { name: 'x', provider: 'openai', credentials: { api_key: `${planted()}\u0000` } }],
      ['POST', '/v1/bots', { name: 'x', provider: 'openai', credentials: { api_key: planted().repeat(40) } }],
      ['POST', '/v1/bots', { name: 'x', provider: 'openai', base_url: `http://${planted()}.example.com` }],
      ['PATCH', `/v1/bots/${id}`, { provider: null, credentials: { api_key: planted() } }],
      ['PATCH', `/v1/bots/${id}`, { model: 'claude-3-opus', credentials: { api_key: planted() } }],
      ['PATCH', '/v1/bots/00000000-0000-4000-8000-000000000000', { credentials: { api_key: planted() } }],
    ];
    for (const [method, path, body] of bad) {
      const res = await send(method, path, body);
      expect(res.status, `${method} ${path} → ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, res.text).toBeLessThan(500);
    }
    const raw = planted();
    responses.push(
      await call(app, 'POST', '/v1/bots', {
        token: t.apiToken,
        body: `{"name":"x","credentials":{"api_key":"${raw}"`,
      }),
    );
    responses.push(
      await call(app, 'POST', '/v1/bots', { body: { name: 'x', credentials: { api_key: planted() } } }),
    );
    responses.push(await call(app, 'POST', '/v1/bots', { token: planted(), body: { name: 'x' } }));
    responses.push(await call(app, 'GET', '/v1/bots', { token: `mrag_${planted()}` }));
  });

  it('when the stored row is read raw then the jsonb holds only the sealed envelope, not the key', async () => {
    const rows = await database.db.withTenant(t.id, (tx) =>
      tx.query<{ raw: string; last4: string | null }>(
        sql`select coalesce(credentials::text, '') as raw, credentials_last4 as last4 from bot_profiles`,
      ),
    );
    const sealed = rows.filter((r) => r.raw !== '');
    expect(sealed.length).toBeGreaterThan(0);
    for (const row of sealed) {
      expect(JSON.parse(row.raw)).toMatchObject({
        v: 1,
        iv: expect.any(String),
        ciphertext: expect.any(String),
      });
      expect(row.last4).toHaveLength(4);
    }
    const everything = rows.map((r) => r.raw).join('\n');
    for (const secret of secrets)
      for (const form of leakForms(secret)) expect(everything).not.toContain(form);
  });

  it('when a bot with a planted key chats (the provider rejects the key and echoes it) then the error names the credential, not the key', async () => {
    const provider = fakes.openai;
    provider.setDefault({ kind: 'unauthorized' });
    const key = planted();
    const bot = await send('POST', '/v1/bots', {
      name: 'chatty',
      provider: 'openai',
      credentials: { api_key: key },
    });
    const chat = await send('POST', '/v1/chats', { bot_id: bot.body.id });
    const asked = await send('POST', `/v1/chats/${chat.body.id}/messages`, { content: 'Hello?' });
    expect(asked.status, asked.text).toBe(400);
    expect(asked.body.detail).toMatch(/API key was rejected/);
    const streamApp = createChatStreamApp(platform);
    const streamed = await call(streamApp, 'POST', `/v1/chats/${chat.body.id}/messages`, {
      token: t.apiToken,
      body: { content: 'Hello again?', stream: true },
    });
    responses.push(streamed);
    expect(streamed.status, streamed.text).toBe(400);
    const completion = await send('POST', '/v1/chat/completions', {
      model: bot.body.id,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.status, completion.text).toBe(400);
    // The fake provider really saw the key: the test would catch a leak of it.
    expect(provider.requests.some((r) => JSON.stringify(r.headers).includes(key))).toBe(true);
    provider.reset();
  });

  it.each(PROVIDERS)(
    'when the %s provider fails in every way and echoes the key in its errors then the answers name the failure, not the key',
    async (name) => {
      const fake = fakes[name];
      fake.reset();
      const key = planted();
      const bot = await send('POST', '/v1/bots', {
        name: `echo-${name}`,
        provider: name,
        credentials: { api_key: key },
      });
      expect(bot.status, bot.text).toBe(201);
      const chat = await send('POST', '/v1/chats', { bot_id: bot.body.id });
      const streamApp = createChatStreamApp(platform);
      for (const failure of FAILURES) {
        fake.setDefault(failure);
        const asked = await send('POST', `/v1/chats/${chat.body.id}/messages`, { content: 'Hello?' });
        expect(asked.status, `${failure.kind}: ${asked.text}`).toBeGreaterThanOrEqual(400);
        const streamed = await call(streamApp, 'POST', `/v1/chats/${chat.body.id}/messages`, {
          token: t.apiToken,
          body: { content: 'Hello again?', stream: true },
        });
        responses.push(streamed);
      }
      fake.setDefault({ kind: 'ok' });
      // The canary is live: the fake saw the key and handed it back in its errors.
      expect(fake.requests.some((r) => JSON.stringify(r.headers).includes(key))).toBe(true);
      expect(new Set(fake.requests.map((r) => r.behaviour))).toEqual(new Set(FAILURES.map((f) => f.kind)));
      const endpoint = name === 'openai' ? `${fake.url}/chat/completions` : `${fake.url}/v1/messages`;
      const probe = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(probe.headers.get(ECHOED_KEY_HEADER)).toBe(key);
      expect(await probe.text()).toContain(key);
    },
  );

  it('when Bedrock fails in every way and echoes the signature and session token then the answers name the failure, not the credentials', async () => {
    const bot = await send('POST', '/v1/bots', {
      name: 'echo-bedrock',
      provider: 'bedrock',
      model: 'amazon.nova-lite-v1:0',
    });
    expect(bot.status, bot.text).toBe(201);
    const chat = await send('POST', '/v1/chats', { bot_id: bot.body.id });
    const streamApp = createChatStreamApp(platform);
    const failures: BedrockBehaviour[] = [
      { kind: 'error', error: 'ValidationException' },
      { kind: 'error', error: 'AccessDeniedException' },
      { kind: 'error', error: 'ThrottlingException' },
      { kind: 'error', error: 'ServiceUnavailableException' },
      { kind: 'error', error: 'ModelTimeoutException' },
      { kind: 'error', error: 'InternalServerException' },
      { kind: 'stream-exception', afterChunks: 2, exception: 'validationException' },
    ];
    for (const failure of failures) {
      bedrock.setDefault(failure);
      const asked = await send('POST', `/v1/chats/${chat.body.id}/messages`, { content: 'Harbour?' });
      expect(asked.status, `${JSON.stringify(failure)}: ${asked.text}`).toBeGreaterThanOrEqual(400);
      const streamed = await call(streamApp, 'POST', `/v1/chats/${chat.body.id}/messages`, {
        token: t.apiToken,
        body: { content: 'Harbour again?', stream: true },
      });
      responses.push(streamed);
    }
    bedrock.setDefault({ kind: 'ok' });
    // The canaries are live: the stand-in was signed with them and quoted them back in its errors.
    const signed = bedrock.requests.filter((r) => r.headers['x-amz-security-token'] === aws.sessionToken);
    expect(signed.length).toBeGreaterThan(failures.length);
    expect(signed.some((r) => r.accessKeyId === aws.accessKeyId)).toBe(true);
    expect(new Set(bedrock.requests.map((r) => r.endpoint))).toEqual(
      new Set(['converse', 'converse-stream']),
    );
  });

  it.each(PROVIDERS)(
    'when a website visitor asks a %s bot that fails in every way and echoes its key then the widget responses name the failure, not the key',
    async (name) => {
      const fake = fakes[name];
      fake.reset();
      const key = planted();
      const bot = await send('POST', '/v1/bots', {
        name: `website-${name}`,
        provider: name,
        credentials: { api_key: key },
      });
      const site = 'https://help.example.com';
      const publishable = await send('POST', `/v1/bots/${bot.body.id}/publishable-keys`, {
        allowed_origins: [site],
      });
      expect(publishable.status, publishable.text).toBe(201);
      const streamApp = createChatStreamApp(platform);
      const session = await call(streamApp, 'POST', '/v1/public/sessions', {
        token: publishable.body.key,
        headers: { origin: site },
      });
      responses.push(session);
      const visitor = session.body.token as string;
      visitorTokens.push(visitor);
      const chat = await call(streamApp, 'POST', '/v1/public/chats', {
        token: visitor,
        body: {},
        headers: { origin: site },
      });
      responses.push(chat);
      for (const failure of FAILURES) {
        fake.setDefault(failure);
        for (const [target, stream] of [
          [app, false],
          [streamApp, true],
        ] as const) {
          const asked = await call(target, 'POST', `/v1/public/chats/${chat.body.id}/messages`, {
            token: visitor,
            body: { content: 'Hello from the website?', stream },
            headers: { origin: site },
          });
          responses.push(asked);
          if (!stream) expect(asked.status, `${failure.kind}: ${asked.text}`).toBeGreaterThanOrEqual(400);
        }
      }
      fake.setDefault({ kind: 'ok' });
      responses.push(
        await call(streamApp, 'GET', `/v1/public/chats/${chat.body.id}`, {
          token: visitor,
          headers: { origin: site },
        }),
      );
      const widget = await app.request('/widget.js');
      responses.push({
        status: widget.status,
        headers: widget.headers,
        text: await widget.text(),
        body: null,
      });
      expect(fake.requests.some((r) => JSON.stringify(r.headers).includes(key))).toBe(true);
    },
  );

  it('when every response body, header, SSE event, log line and stored message is scanned then no key appears in any form', async () => {
    expect(responses.length).toBeGreaterThan(40);
    expect(secrets.length).toBeGreaterThan(15);
    const stored = await database.superuser.withSystem((tx) =>
      tx.query<{ row: string }>(sql`select m::text as row from messages m`),
    );
    // Failures before the first byte store nothing; a stream broken midway keeps the question and the
    // failed answer, once per provider.
    expect(stored.length).toBeGreaterThanOrEqual(2 * PROVIDERS.length);
    // Each saved answer has a trace: scanned as stored and as the API serves it.
    const traces = await database.superuser.withSystem((tx) =>
      tx.query<{ row: string; chat_id: string; message_id: string }>(
        sql`select t::text as row, chat_id, message_id from answer_traces t`,
      ),
    );
    expect(traces.length).toBeGreaterThanOrEqual(PROVIDERS.length);
    for (const trace of traces) {
      const served = await send('GET', `/v1/chats/${trace.chat_id}/messages/${trace.message_id}/trace`);
      expect(served.status, served.text).toBe(200);
    }
    const haystacks = [
      ...traces.map((t) => t.row),
      ...responses.map((r) => `${r.status} ${JSON.stringify([...r.headers.entries()])}\n${r.text}`),
      ...platform.logger.lines,
      ...stored.map((m) => m.row),
    ];
    for (const secret of secrets) {
      for (const form of leakForms(secret)) {
        const hit = haystacks.find((h) => h.includes(form));
        expect(hit, `the key leaked as ${form}`).toBeUndefined();
      }
    }
    // A visitor token is a credential too: it may be in its own session response, never in a log line.
    expect(visitorTokens.length).toBe(PROVIDERS.length);
    for (const token of visitorTokens) {
      expect(platform.logger.lines.find((line) => line.includes(token))).toBeUndefined();
    }
  });
});
