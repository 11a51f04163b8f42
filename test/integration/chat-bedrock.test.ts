import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_AWS_CREDENTIALS, type FakeBedrock, startFakeBedrock } from '#test/fakes/bedrock-server.ts';
import { FAKE_COHERE_API_KEY, type FakeCohere, startFakeCohere } from '#test/fakes/cohere-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant } from '#test/fixtures/tenants.ts';

const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const DENIED = 'meta.llama3-70b-instruct-v1:0';
const LONG_REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

/**
 * A bot with provider "bedrock" answering through the chat-stream app, against the Bedrock stand-in
 * reached through BEDROCK_ENDPOINT_URL, signed with credentials from the default chain (the environment).
 */
describe.each(databaseKinds())('bedrock bots on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let bedrock: FakeBedrock;
  let cohere: FakeCohere;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = FAKE_AWS_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_AWS_CREDENTIALS.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = FAKE_AWS_CREDENTIALS.sessionToken;
    bedrock = await startFakeBedrock({
      deniedModels: [DENIED],
      reply: 'IKAROS demonstrated solar sailing in 2010 [1].',
    });
    cohere = await startFakeCohere();
    database = await kind.create();
    h = await startChatHarness(database, {
      platform: {
        providerKeys: { cohere: FAKE_COHERE_API_KEY },
        env: {
          BEDROCK_ENDPOINT_URL: bedrock.url,
          BEDROCK_AGENT_RUNTIME_ENDPOINT_URL: bedrock.url,
          COHERE_BASE_URL: cohere.url,
          BEDROCK_REGION: 'eu-central-1',
          BEDROCK_MODELS: `${MODEL},${DENIED},amazon.nova-lite-v1:0,amazon.rerank-v1:0,cohere.rerank-v3-5:0`,
        },
      },
    });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
    await bedrock.close();
    await cohere.close();
    process.env = saved;
  });

  const messages = async (chatId: string) =>
    (await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken })).body.messages;
  const bedrockBot = (fields: Record<string, unknown> = {}) =>
    h.bot('extractive', { provider: 'bedrock', model: MODEL, ...fields });

  it('when a bedrock bot is asked then it streams a cited answer with usage from the metadata event', async () => {
    const botId = await bedrockBot();
    const bot = await call(h.api, 'GET', `/v1/bots/${botId}`, { token: h.tenant.apiToken });
    expect(bot.body).toMatchObject({ provider: 'bedrock', model: MODEL, region: null });
    expect(bot.body.credentials).toEqual({ configured: false, last4: null });

    const chatId = await h.chat(botId);
    const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event).filter((e) => e !== 'delta')).toEqual([
      'meta',
      'citations',
      'usage',
      'done',
    ]);
    const [citations] = dataOf(events, 'citations');
    expect(JSON.stringify(citations)).toContain(h.solarSourceId);
    const text = dataOf(events, 'delta')
      .map((d) => d.text)
      .join('');
    expect(text).toBe('IKAROS demonstrated solar sailing in 2010 [1].');

    const sent = bedrock.requests.at(-1)!;
    expect(sent.endpoint).toBe('converse-stream');
    expect(sent.modelId).toBe(MODEL);
    expect(sent.region).toBe('eu-central-1');
    // The retrieved passage reached the model inside the user turn; the instructions as system blocks.
    expect(JSON.stringify(sent.body?.messages)).toContain('IKAROS');
    expect(sent.body?.system).toEqual([{ text: expect.any(String) }]);

    const [usage] = dataOf(events, 'usage');
    const rows = await h.usageRows(chatId);
    const chat = rows.find((r) => r.kind === 'chat');
    expect(chat).toMatchObject({ provider: 'bedrock' });
    expect(chat?.input_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens ?? usage.outputTokens).toBe(chat?.output_tokens);
    const [, answer] = await messages(chatId);
    expect(answer).toMatchObject({ role: 'assistant', status: 'complete', content: text });
  });

  it('when the bot names a region then Bedrock is called in that region', async () => {
    const chatId = await h.chat(await bedrockBot({ region: 'us-west-2' }));
    const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
    expect(res.status).toBe(200);
    await res.text();
    expect(bedrock.requests.at(-1)?.region).toBe('us-west-2');
  });

  it('when Bedrock throttles before the first token then the call is retried and the answer streams', async () => {
    const chatId = await h.chat(await bedrockBot());
    bedrock.script({ kind: 'error', error: 'ThrottlingException', on: 'converse-stream' });
    const before = bedrock.requests.length;
    const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.at(-1)?.event).toBe('done');
    expect(bedrock.requests.slice(before).map((r) => r.status)).toEqual([429, 200]);
  });

  it('when throttling persists then 429 problem+json with retry-after, before any SSE, nothing saved', async () => {
    const chatId = await h.chat(await bedrockBot());
    bedrock.setDefault({ kind: 'error', error: 'ThrottlingException' });
    try {
      const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await messages(chatId)).toEqual([]);
    } finally {
      bedrock.setDefault({ kind: 'ok' });
    }
  });

  it('when an exception event arrives mid-stream then an SSE error follows the deltas and a partial answer is saved', async () => {
    const chatId = await h.chat(await bedrockBot());
    bedrock.script({
      kind: 'stream-exception',
      afterChunks: 6,
      exception: 'modelStreamErrorException',
      reply: LONG_REPLY,
    });
    const res = await h.ask(chatId, 'Tell me everything about solar sails.');
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.at(-1)?.event).toBe('error');
    const deltas = dataOf(events, 'delta').map((d) => d.text);
    expect(deltas.join('')).toBe(`${LONG_REPLY.split(' ').slice(0, 6).join(' ')} `);
    expect(dataOf(events, 'error')[0]).toMatchObject({ status: 502 });
    const [, answer] = await messages(chatId);
    expect(answer).toMatchObject({ status: 'partial', content: deltas.join('') });
  });

  it('when model access is not enabled then 400 problem+json names the model and says to enable access', async () => {
    const chatId = await h.chat(await bedrockBot({ model: DENIED }));
    const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.detail).toContain(DENIED);
    expect(problem.detail).toMatch(/enable model access/);
    expect(await messages(chatId)).toEqual([]);
  });

  it.each([
    [{ credentials: { api_key: 'sk-some-key-0123456789' } }, /no credentials/],
    [{ base_url: 'https://bedrock.example.com' }, /no base_url/],
    [{ model: 'anthropic.claude-v2' }, /allows these Bedrock models/],
    [{ region: 'mars-1' }, /AWS region/],
    [
      { retrieval: { rerank: { provider: 'bedrock', model: 'amazon.rerank-v9:0' } } },
      /rerank model 'amazon.rerank-v9:0' is not one/,
    ],
    [{ provider: 'openai', model: 'gpt-4o-mini', region: 'us-east-1' }, /region is only for the bedrock/],
  ])('when a bedrock bot is created with %j then 400 and nothing is written', async (fields, reason) => {
    const before = await call(h.api, 'GET', '/v1/bots?limit=100', { token: h.tenant.apiToken });
    const res = await call(h.api, 'POST', '/v1/bots', {
      token: h.tenant.apiToken,
      body: { name: 'refused', provider: 'bedrock', model: MODEL, ...fields },
    });
    expect(res.status, res.text).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(reason);
    const after = await call(h.api, 'GET', '/v1/bots?limit=100', { token: h.tenant.apiToken });
    expect(after.body.data.length).toBe(before.body.data.length);
  });

  it('when a bot moves from openai to bedrock then its key is dropped, and back again its region goes', async () => {
    const botId = await h.bot('openai');
    const moved = await call(h.api, 'PATCH', `/v1/bots/${botId}`, {
      token: h.tenant.apiToken,
      body: { provider: 'bedrock', model: MODEL, region: 'us-west-2', retrieval: { top_k: 3 } },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ provider: 'bedrock', region: 'us-west-2', retrieval: { top_k: 3 } });
    expect(moved.body.credentials.configured).toBe(false);
    const tuned = await call(h.api, 'PATCH', `/v1/bots/${botId}`, {
      token: h.tenant.apiToken,
      body: { retrieval: { top_k: 5 } },
    });
    expect(tuned.body).toMatchObject({ provider: 'bedrock', region: 'us-west-2', retrieval: { top_k: 5 } });
    const back = await call(h.api, 'PATCH', `/v1/bots/${botId}`, {
      token: h.tenant.apiToken,
      body: { provider: 'openai', model: 'gpt-4o-mini' },
    });
    expect(back.body).toMatchObject({ provider: 'openai', region: null, retrieval: { top_k: 5 } });
  });

  it("when tenant A uses B's bedrock bot id in any way then 404, B's bot is unchanged and Bedrock is never called", async () => {
    const a = await createTestTenant(h.api, 'bedrock-intruder');
    const botId = await bedrockBot({
      region: 'us-west-2',
      retrieval: { rerank: { provider: 'bedrock', model: 'amazon.rerank-v1:0', top_n: 2 } },
    });
    const chatId = await h.chat(botId);
    const before = bedrock.requests.length;
    const attempts = [
      await call(h.api, 'GET', `/v1/bots/${botId}`, { token: a.apiToken }),
      await call(h.api, 'PATCH', `/v1/bots/${botId}`, {
        token: a.apiToken,
        body: { model: 'amazon.nova-lite-v1:0', region: 'eu-west-1', retrieval: { rerank: null } },
      }),
      await call(h.api, 'POST', '/v1/chats', { token: a.apiToken, body: { bot_id: botId } }),
      await call(h.api, 'POST', `/v1/chats/${chatId}/messages`, {
        token: a.apiToken,
        body: { content: 'hi' },
      }),
      await call(h.api, 'POST', '/v1/chat/completions', {
        token: a.apiToken,
        body: { model: botId, messages: [{ role: 'user', content: 'hi' }] },
      }),
      await call(h.api, 'DELETE', `/v1/bots/${botId}`, { token: a.apiToken }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404]);
    const streamed = await h.ask(chatId, 'hi', { token: a.apiToken });
    expect(streamed.status).toBe(404);
    expect(bedrock.requests.length).toBe(before);
    const own = await call(h.api, 'GET', `/v1/bots/${botId}`, { token: h.tenant.apiToken });
    expect(own.body).toMatchObject({ provider: 'bedrock', model: MODEL, region: 'us-west-2' });
    expect(own.body.retrieval.rerank).toMatchObject({ model: 'amazon.rerank-v1:0' });
  });

  describe('reranking', () => {
    const SOLAR_QUESTION = 'Which mission demonstrated solar sailing with IKAROS?';
    const usageByModel = async () =>
      (await call(h.api, 'GET', '/v1/usage?group_by=model', { token: h.tenant.apiToken })).body.data as {
        key: string;
        kind: string;
        events: number;
        cost_usd: number;
      }[];

    it('when a bot reranks with Bedrock then the candidates go to Rerank, the top_n are cited and a rerank usage event is saved', async () => {
      const botId = await bedrockBot({
        retrieval: { top_k: 4, rerank: { provider: 'bedrock', model: 'amazon.rerank-v1:0', top_n: 1 } },
      });
      const bot = await call(h.api, 'GET', `/v1/bots/${botId}`, { token: h.tenant.apiToken });
      expect(bot.body.retrieval.rerank).toEqual({
        provider: 'bedrock',
        model: 'amazon.rerank-v1:0',
        top_n: 1,
      });
      const chatId = await h.chat(botId);
      const before = bedrock.requests.length;
      const res = await h.ask(chatId, SOLAR_QUESTION);
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      const calls = bedrock.requests.slice(before);
      const rerank = calls.find((r) => r.endpoint === 'rerank');
      expect(rerank?.body).toMatchObject({
        queries: [{ type: 'TEXT', textQuery: { text: SOLAR_QUESTION } }],
        rerankingConfiguration: {
          bedrockRerankingConfiguration: {
            numberOfResults: 1,
            modelConfiguration: {
              modelArn: 'arn:aws:bedrock:eu-central-1::foundation-model/amazon.rerank-v1:0',
            },
          },
        },
      });
      expect((rerank!.body!.sources as unknown[]).length).toBeGreaterThan(1);
      // Reranking happens before generation: the prompt holds only the reranked top_n.
      expect(calls.findIndex((r) => r.endpoint === 'rerank')).toBeLessThan(
        calls.findIndex((r) => r.endpoint === 'converse-stream'),
      );
      const [citations] = dataOf(events, 'citations');
      const cited = (citations.citations ?? citations) as { source_id: string }[];
      expect(cited.map((c) => c.source_id)).toEqual([h.solarSourceId]);
      const rerankRows = (await h.usageRows(chatId)).filter((r) => r.kind === 'embed' || r.kind === 'rerank');
      expect(rerankRows.length).toBe(2);
      const usage = await usageByModel();
      const row = usage.find((r) => r.kind === 'rerank' && r.key === 'bedrock/amazon.rerank-v1:0');
      expect(row).toMatchObject({ events: 1 });
      expect(row?.cost_usd).toBeCloseTo(0.001, 6);
    });

    it('when Bedrock Rerank is throttled then the answer still streams from the fused order, unbilled for reranking', async () => {
      const chatId = await h.chat(
        await bedrockBot({
          retrieval: { rerank: { provider: 'bedrock', model: 'amazon.rerank-v1:0', top_n: 2 } },
        }),
      );
      bedrock.script({ kind: 'error', error: 'ThrottlingException', on: 'rerank' });
      const res = await h.ask(chatId, SOLAR_QUESTION);
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      expect(events.at(-1)?.event).toBe('done');
      const kinds = (await h.usageRows(chatId)).map((r) => r.kind);
      expect(kinds.sort()).toEqual(['chat', 'embed']);
    });

    it('when the rerank model is not enabled then 400 names it, before any SSE', async () => {
      const chatId = await h.chat(
        await bedrockBot({
          retrieval: { rerank: { provider: 'bedrock', model: 'cohere.rerank-v3-5:0', top_n: 2 } },
        }),
      );
      bedrock.script({ kind: 'error', error: 'AccessDeniedException', on: 'rerank' });
      const res = await h.ask(chatId, SOLAR_QUESTION);
      expect(res.status).toBe(400);
      expect((await res.json()).detail).toMatch(/cohere\.rerank-v3-5:0.*enable model access/);
      expect(await messages(chatId)).toEqual([]);
    });

    it("when a bot reranks with Cohere's API then the operator's key is used and the usage names Cohere", async () => {
      const chatId = await h.chat(
        await bedrockBot({ retrieval: { rerank: { provider: 'cohere', model: 'rerank-v3.5', top_n: 1 } } }),
      );
      cohere.reset();
      const res = await h.ask(chatId, SOLAR_QUESTION);
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      expect(cohere.requests).toHaveLength(1);
      expect(cohere.requests[0]?.body).toMatchObject({
        model: 'rerank-v3.5',
        query: SOLAR_QUESTION,
        top_n: 1,
      });
      const [citations] = dataOf(events, 'citations');
      const cited = (citations.citations ?? citations) as { source_id: string }[];
      expect(cited.map((c) => c.source_id)).toEqual([h.solarSourceId]);
      expect((await usageByModel()).some((r) => r.kind === 'rerank' && r.key === 'cohere/rerank-v3.5')).toBe(
        true,
      );
    });
  });
});
