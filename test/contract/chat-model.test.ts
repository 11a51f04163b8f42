import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAnthropicChatModel } from '#shared/adapters/anthropic/chat-model.ts';
import { createOpenAiChatModel } from '#shared/adapters/openai/chat-model.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { ChatEvent, ChatModel, ChatRequest } from '#shared/ports/chat-model.ts';
import { FAKE_ANTHROPIC_API_KEY, startFakeAnthropic } from '#test/fakes/anthropic-server.ts';
import { FAKE_OPENAI_API_KEY, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import type { FakeProviderServer } from '#test/fakes/scripted-provider-server.ts';

/**
 * The ChatModel contract, run against every LLM adapter through its real SDK and a fake server that
 * speaks the provider's wire format.
 */
interface ModelOptions {
  readonly apiKey?: string;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
}

interface Kit {
  readonly name: string;
  start(): Promise<FakeProviderServer<string>>;
  model(url: string, options?: ModelOptions): ChatModel;
  /** Stream events the fake sends before the first text delta. */
  readonly eventsBeforeText: number;
}

const kits: Kit[] = [
  {
    name: 'openai',
    start: () => startFakeOpenAi(),
    model: (url, o = {}) =>
      createOpenAiChatModel({
        model: 'gpt-4o-mini',
        baseURL: url,
        ...o,
        apiKey: o.apiKey ?? FAKE_OPENAI_API_KEY,
      }),
    eventsBeforeText: 1,
  },
  {
    // A compatible server that reports no usage: the adapter counts tokens itself.
    name: 'openai-compatible',
    start: () => startFakeOpenAi({ defaultBehaviour: { kind: 'ok', omitUsage: true } }),
    model: (url, o = {}) =>
      createOpenAiChatModel({
        provider: 'openai-compatible',
        model: 'llama3.1',
        baseURL: url,
        ...o,
        apiKey: o.apiKey ?? FAKE_OPENAI_API_KEY,
      }),
    eventsBeforeText: 1,
  },
  {
    name: 'anthropic',
    start: () => startFakeAnthropic(),
    model: (url, o = {}) =>
      createAnthropicChatModel({
        model: 'claude-haiku-5-5',
        baseURL: url,
        ...o,
        apiKey: o.apiKey ?? FAKE_ANTHROPIC_API_KEY,
      }),
    eventsBeforeText: 3,
  },
];

const REPLY = 'Refunds are issued within fourteen days of the request [1].';

const request = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  system: 'Answer from the numbered context only.',
  messages: [
    {
      role: 'user',
      content: 'Context:\n[1] Refunds are issued within 14 days.\n\nQuestion: How long do refunds take?',
    },
  ],
  question: 'How long do refunds take?',
  passages: [{ n: 1, sourceId: 'src-1', title: 'Refunds', content: 'Refunds are issued within 14 days.' }],
  ...overrides,
});

/** Drains a stream, keeping what arrived before an error. */
async function drain(events: AsyncIterable<ChatEvent>) {
  const deltas: string[] = [];
  const usage: ChatEvent[] = [];
  try {
    for await (const event of events) event.type === 'delta' ? deltas.push(event.text) : usage.push(event);
    return { deltas, usage, error: undefined };
  } catch (error) {
    return { deltas, usage, error };
  }
}

describe.each(kits)('ChatModel contract: $name', (kit) => {
  let fake: FakeProviderServer<string>;
  beforeAll(async () => {
    fake = await kit.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('when the provider streams an answer then the deltas spell it out and one usage event ends the stream', async () => {
    fake.script({ kind: 'ok', reply: REPLY });
    const { deltas, usage, error } = await drain(kit.model(fake.url).stream(request()));
    expect(error).toBeUndefined();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(REPLY);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      type: 'usage',
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
    });
    const counts = usage[0] as { inputTokens: number; outputTokens: number };
    expect(counts.inputTokens).toBeGreaterThan(10);
    expect(counts.outputTokens).toBeGreaterThan(5);
    expect(fake.requests).toHaveLength(1);
  });

  it('when complete() is called then it returns the whole text and its usage', async () => {
    fake.script({ kind: 'ok', reply: REPLY });
    const result = await kit.model(fake.url).complete(request());
    expect(result.text).toBe(REPLY);
    expect(result.inputTokens).toBeGreaterThan(10);
    expect(result.outputTokens).toBeGreaterThan(5);
    expect(fake.requests[0]?.body?.['stream']).not.toBe(true);
  });

  it("when the bot's key is rejected then a ProviderError 400 names the credential and never shows the key", async () => {
    const wrongKey = 'sk-wrong-key-9f8e7d6c5b4a39281706';
    const { deltas, error } = await drain(kit.model(fake.url, { apiKey: wrongKey }).stream(request()));
    expect(deltas).toEqual([]);
    expect(error).toBeInstanceOf(ProviderError);
    const providerError = error as ProviderError;
    expect(providerError.status).toBe(400);
    expect(providerError.message).toMatch(/^The bot's .*API key was rejected by the provider \(401\)\.$/);
    expect(JSON.stringify({ message: providerError.message, details: providerError.details })).not.toContain(
      wrongKey,
    );
    expect(providerError.message).not.toContain('9f8e');
    expect(fake.requests).toHaveLength(1);
  });

  it('when the provider refuses access (403) then it is the same credential problem', async () => {
    fake.script({ kind: 'forbidden' });
    await expect(kit.model(fake.url).complete(request())).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/API key was rejected by the provider \(403\)/),
    });
  });

  it('when the provider rate-limits then a ProviderError 429 carries retryAfterSeconds and is not retried', async () => {
    fake.script({ kind: 'rate-limited', retryAfter: 2 });
    const { error } = await drain(kit.model(fake.url).stream(request()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 2 });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the first attempt fails with a 500 then it is retried and the answer streams', async () => {
    fake.script({ kind: 'server-error' }, { kind: 'ok', reply: REPLY });
    const { deltas, error } = await drain(kit.model(fake.url).stream(request()));
    expect(error).toBeUndefined();
    expect(deltas.join('')).toBe(REPLY);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('when every attempt fails then the last failure surfaces as a ProviderError 502 after maxRetries', async () => {
    fake.setDefault({ kind: 'server-error', status: 503 });
    const { error } = await drain(kit.model(fake.url, { maxRetries: 1 }).stream(request()));
    expect(error).toMatchObject({ status: 502, message: expect.stringMatching(/unavailable \(503\)/) });
    expect(fake.requests).toHaveLength(2);
  });

  it('when the stream is cut after some text then that text arrives, a ProviderError 502 follows and nothing is retried', async () => {
    fake.script({ kind: 'cut-stream', afterChunks: kit.eventsBeforeText + 3, reply: REPLY });
    const { deltas, usage, error } = await drain(kit.model(fake.url).stream(request()));
    expect(deltas.join('')).toBe('Refunds are issued ');
    expect(usage).toEqual([]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 502, message: "The provider's stream ended unexpectedly." });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.state).toBe('cut');
  });

  it('when the stream is cut before any text then the request is retried and the answer streams once', async () => {
    fake.script(
      { kind: 'cut-stream', afterChunks: kit.eventsBeforeText, reply: REPLY },
      { kind: 'ok', reply: REPLY },
    );
    const { deltas, error } = await drain(kit.model(fake.url).stream(request()));
    expect(error).toBeUndefined();
    expect(deltas.join('')).toBe(REPLY);
    expect(fake.requests).toHaveLength(2);
  });

  it('when the provider reports an error mid-stream then the text so far arrives and a ProviderError 502 follows', async () => {
    fake.script({ kind: 'stream-error', afterChunks: kit.eventsBeforeText + 2, reply: REPLY });
    const { deltas, error } = await drain(kit.model(fake.url).stream(request()));
    expect(deltas.join('')).toBe('Refunds are ');
    expect(error).toMatchObject({ status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the caller aborts mid-stream then the iterator rejects with the abort reason and the request is dropped', async () => {
    fake.script({ kind: 'ok', reply: REPLY, chunkDelayMs: 50 });
    const controller = new AbortController();
    const iterator = kit
      .model(fake.url)
      .stream(request({ signal: controller.signal }))
      [Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ type: 'delta' });
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(fake.requests[0]?.state).toBe('client-closed'));
  });

  it('when the caller aborts before the provider answers then complete() rejects at once with the abort reason', async () => {
    fake.script({ kind: 'hang' });
    const controller = new AbortController();
    const pending = kit.model(fake.url).complete(request({ signal: controller.signal }));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    controller.abort(new Error('user went away'));
    await expect(pending).rejects.toThrow('user went away');
    await vi.waitFor(() => expect(fake.requests[0]?.state).toBe('client-closed'));
  });

  it('when the provider never answers then a ProviderError 502 reports the timeout and it is not retried', async () => {
    fake.script({ kind: 'hang' });
    const started = Date.now();
    const { error } = await drain(kit.model(fake.url, { timeoutMs: 200 }).stream(request()));
    expect(error).toMatchObject({
      status: 502,
      message: expect.stringMatching(/did not respond within 0\.2 s/),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fake.requests).toHaveLength(1);
  });

  it('when the provider goes quiet mid-stream then the idle timeout ends it with a ProviderError 502', async () => {
    fake.script({ kind: 'ok', reply: REPLY, chunkDelayMs: 400 });
    const { error } = await drain(kit.model(fake.url, { timeoutMs: 150 }).stream(request()));
    expect(error).toMatchObject({ status: 502, message: expect.stringMatching(/did not respond within/) });
  });
});
