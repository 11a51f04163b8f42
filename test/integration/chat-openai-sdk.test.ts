import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type ChatHarness, openAiReportedUsage, startChatHarness } from '#test/fixtures/sse.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
const ANSWER = 'The IKAROS mission demonstrated solar sailing in 2010 [1].';
const REWRITTEN = 'In which year did the IKAROS mission fly?';
const reply = (request: RecordedRequest) => (request.body?.stream === true ? ANSWER : REWRITTEN);

/** What MiniRAG adds to OpenAI's objects. */
type WithCitations = { citations?: { n: number; source_id: string; title: string }[] };

describe.each(databaseKinds())('OpenAI-compatible endpoint with the official SDK on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let client: OpenAI;
  let botId: string;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, { reply });
    botId = await h.bot('openai');
    client = new OpenAI({
      apiKey: h.tenant.apiToken,
      baseURL: 'https://chat.minirag.test/v1',
      maxRetries: 0,
      // No server: the SDK's requests go straight into the chat-stream app.
      fetch: (url, init) => Promise.resolve(h.stream.request(String(url), init)),
    });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const lastStreamed = () => h.openai.requests.filter((r) => r.body?.stream === true).at(-1)!;

  it("when the SDK lists models then it finds the tenant's bots and can retrieve one", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toContain(botId);
    expect(models.every((m) => m.object === 'model' && m.owned_by === 'minirag')).toBe(true);
    const one = await client.models.retrieve(botId);
    expect(one).toMatchObject({ id: botId, object: 'model' });
    expect(one.created).toBeGreaterThan(1_700_000_000);
    const missing = await client.models.retrieve('gpt-4o').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('Model not found');
  });

  it('when the SDK asks without streaming then it gets a chat.completion with citations and usage', async () => {
    const completion = await client.chat.completions.create({
      model: botId,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: QUESTION },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(botId);
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: ANSWER });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const citations = (completion as typeof completion & WithCitations).citations!;
    expect(citations.map((c) => c.source_id)).toEqual([h.solarSourceId]);
    const reported = openAiReportedUsage(lastStreamed(), ANSWER);
    expect(completion.usage).toMatchObject({
      prompt_tokens: reported.input,
      completion_tokens: reported.output,
      total_tokens: reported.input + reported.output,
    });
  });

  it('when the SDK streams then chunks carry the text, a stop with the cited passages and the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: botId,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === botId)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(ANSWER);
    const stops = chunks.filter((c) => c.choices[0]?.finish_reason === 'stop');
    expect(stops).toHaveLength(1);
    const stop = stops[0] as (typeof chunks)[number] & WithCitations;
    expect(stop.citations).toEqual([
      expect.objectContaining({ n: 1, source_id: h.solarSourceId, title: 'Propulsion notes' }),
    ]);
    expect(chunks.filter((c) => (c as typeof c & WithCitations).citations)).toEqual([stop]);

    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const reported = openAiReportedUsage(lastStreamed(), ANSWER);
    expect(last.usage).toMatchObject({ prompt_tokens: reported.input, completion_tokens: reported.output });
  });

  it('when the same question is asked streamed and not then both carry the same citations and url_citation annotations', async () => {
    const ask = { model: botId, messages: [{ role: 'user' as const, content: QUESTION }] };
    const whole = await client.chat.completions.create(ask);
    const streamed: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true }))
      streamed.push(chunk);
    const stop = streamed.find((c) => c.choices[0]?.finish_reason === 'stop')!;

    const marker = ANSWER.indexOf('[1]');
    const expected = [
      {
        type: 'url_citation',
        url_citation: {
          url: expect.stringMatching(new RegExp(`^minirag://sources/${h.solarSourceId}#[0-9a-f-]{36}$`)),
          title: 'Propulsion notes',
          start_index: marker,
          end_index: marker + 3,
        },
      },
    ];
    expect(whole.choices[0]?.message.annotations).toEqual(expected);
    expect(stop.choices[0]?.delta).toMatchObject({ annotations: expected });
    const citationsOf = (o: object) => (o as WithCitations).citations;
    expect(citationsOf(stop)).toEqual(citationsOf(whole));
  });

  it('when the SDK streams without include_usage then no usage chunk comes', async () => {
    const stream = await client.chat.completions.create({
      model: botId,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('when the messages carry history then the question is rewritten from it', async () => {
    const before = h.openai.requests.length;
    const completion = await client.chat.completions.create({
      model: botId,
      messages: [
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: ANSWER },
        { role: 'user', content: 'And in which year?' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe(ANSWER);
    const calls = h.openai.requests.slice(before);
    expect(calls.map((r) => r.body?.stream === true)).toEqual([false, true]);
    expect(JSON.stringify(calls[1]!.body?.messages)).toContain('And in which year?');
  });

  it('when the model is not one of the tenant bots then the SDK raises a 404 NotFoundError', async () => {
    const error = await client.chat.completions
      .create({ model: crypto.randomUUID(), messages: [{ role: 'user', content: QUESTION }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).status).toBe(404);
  });

  it("when the bot's provider key is refused then a streaming call fails as a 400 before any chunk", async () => {
    const badBot = await h.bot('openai', { credentials: { api_key: 'sk-refused-key-0123456789' } });
    const error = await client.chat.completions
      .create({ model: badBot, messages: [{ role: 'user', content: QUESTION }], stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(h.openai.requests.at(-1)?.status).toBe(401);
  });

  it('when an SDK call fails then the SDK error carries the MiniRAG explanation', async () => {
    const badBot = await h.bot('openai', { credentials: { api_key: 'sk-refused-key-0123456789' } });
    const error = await client.chat.completions
      .create({ model: badBot, messages: [{ role: 'user', content: QUESTION }] })
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/API key was rejected/);
  });

  it('when the SDK talks HTTP to a real local server then streaming works the same', async () => {
    const server = serve({ fetch: h.stream.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const overHttp = new OpenAI({
        apiKey: h.tenant.apiToken,
        baseURL: `http://127.0.0.1:${port}/v1`,
        maxRetries: 0,
      });
      const stream = await overHttp.chat.completions.create({
        model: botId,
        messages: [{ role: 'user', content: QUESTION }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let citations: WithCitations['citations'];
      let annotations: { url_citation: { url: string } }[] | undefined;
      for await (const chunk of stream) {
        citations ??= (chunk as typeof chunk & WithCitations).citations;
        // biome-ignore lint/suspicious/noExplicitAny: annotations ride on a delta the SDK types without them
        annotations ??= (chunk.choices[0]?.delta as any)?.annotations;
        text += chunk.choices[0]?.delta.content ?? '';
      }
      expect(text).toBe(ANSWER);
      expect(citations?.[0]?.source_id).toBe(h.solarSourceId);
      expect(annotations?.[0]?.url_citation.url).toContain(h.solarSourceId);
    } finally {
      await new Promise((resolve) => {
        server.close(resolve);
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    }
  });
});
