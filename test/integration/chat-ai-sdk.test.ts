import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type ChatHarness, startChatHarness } from '#test/fixtures/sse.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
const ANSWER = 'The IKAROS mission demonstrated solar sailing in 2010 [1].';
const reply = (request: RecordedRequest) => (request.body?.stream === true ? ANSWER : QUESTION);

describe.each(databaseKinds())('the Vercel AI SDK (ai + @ai-sdk/openai) against MiniRAG on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let botId: string;
  let provider: ReturnType<typeof createOpenAI>;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, { reply });
    botId = await h.bot('openai');
    provider = createOpenAI({
      apiKey: h.tenant.apiToken,
      baseURL: 'https://chat.minirag.test/v1',
      // No server: the SDK's requests go straight into the chat-stream app.
      fetch: (url, init) => Promise.resolve(h.stream.request(String(url), init)),
    });
  });
  afterAll(async () => {
    await h?.dispose();
    await database?.dispose();
  });

  const solarSource = () =>
    expect.objectContaining({
      sourceType: 'url',
      url: expect.stringContaining(`minirag://sources/${h.solarSourceId}`),
      title: 'Propulsion notes',
    });

  it('when generateText asks through provider.chat(botId) then the text and the cited source arrive', async () => {
    const result = await generateText({ model: provider.chat(botId), prompt: QUESTION, maxRetries: 0 });
    expect(result.text).toBe(ANSWER);
    expect(result.sources).toEqual([solarSource()]);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it('when streamText streams through provider.chat(botId) then the same text and source arrive', async () => {
    const result = streamText({ model: provider.chat(botId), prompt: QUESTION, maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(ANSWER);
    expect(await result.sources).toEqual([solarSource()]);
  });

  it('when generateText asks through provider(botId), the Responses API, then the text, source and usage arrive', async () => {
    const result = await generateText({ model: provider(botId), prompt: QUESTION, maxRetries: 0 });
    expect(result.text).toBe(ANSWER);
    expect(result.sources).toEqual([solarSource()]);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('when streamText streams through provider(botId), the Responses API, then the same text and source arrive', async () => {
    const result = streamText({
      model: provider(botId),
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: QUESTION },
      ],
      maxRetries: 0,
    });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(ANSWER);
    expect(await result.sources).toEqual([solarSource()]);
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
  });

  it.each([false, true])(
    "when LangChain's ChatOpenAI (Responses API, streaming %s) asks then the citation arrives as an annotation",
    async (streaming) => {
      const chat = new ChatOpenAI({
        model: botId,
        apiKey: h.tenant.apiToken,
        useResponsesApi: true,
        streaming,
        maxRetries: 0,
        configuration: {
          baseURL: 'https://chat.minirag.test/v1',
          fetch: (url: RequestInfo | URL, init?: RequestInit) =>
            Promise.resolve(h.stream.request(String(url), init)),
        },
      });
      const message = await chat.invoke(QUESTION);
      expect(message.text).toBe(ANSWER);
      const blocks = message.content as { type: string; annotations?: Record<string, unknown>[] }[];
      const annotations = blocks.flatMap((b) => b.annotations ?? []);
      expect(JSON.stringify(annotations)).toContain(`minirag://sources/${h.solarSourceId}`);
    },
  );
});
