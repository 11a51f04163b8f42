import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenAiEmbedder } from '#shared/adapters/openai/embedder.ts';
import { ProviderError, ValidationError } from '#shared/domain/errors.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import {
  FAKE_OPENAI_API_KEY,
  type FakeOpenAi,
  fakeEmbedding,
  startFakeOpenAi,
} from '#test/fakes/openai-server.ts';

const texts = [
  'Refunds take fourteen days.',
  'Shipping is free over 50 euros.',
  'Support answers within a day.',
];

describe('OpenAI embedder', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  const embedder = (options: Partial<Parameters<typeof createOpenAiEmbedder>[0]> = {}) =>
    createOpenAiEmbedder({ apiKey: FAKE_OPENAI_API_KEY, baseURL: fake.url, ...options });

  it('when texts are embedded then one request carries them all and the vectors come back in input order', async () => {
    fake.script({ kind: 'ok', embeddingOrder: 'reversed' });
    const result = await embedder().embed(texts);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: texts,
      encoding_format: 'base64',
    });
    expect(result.vectors).toEqual(texts.map((t) => fakeEmbedding(t, 1536)));
    expect(result.inputTokens).toBe(texts.reduce((sum, t) => sum + countTokens(t), 0));
  });

  it('when dimensions are configured then they are requested and define the space', async () => {
    const shortened = embedder({ dimensions: 256 });
    expect(shortened.space).toEqual({ provider: 'openai', model: 'text-embedding-3-small', dimensions: 256 });
    expect(shortened.maxBatchSize).toBe(128);
    const result = await shortened.embed(texts.slice(0, 1));
    expect(fake.requests[0]?.body).toMatchObject({ dimensions: 256 });
    expect(result.vectors[0]).toHaveLength(256);
  });

  it('when the server is OpenAI-compatible then plain floats are asked for', async () => {
    const local = embedder({ provider: 'openai-compatible', model: 'nomic-embed-text', dimensions: 64 });
    const result = await local.embed(texts);
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: 'float', dimensions: 64 });
    expect(result.vectors).toEqual(texts.map((t) => fakeEmbedding(t, 64)));
  });

  it('when the provider rate-limits then the ProviderError carries retryAfterSeconds and the SDK did not retry', async () => {
    fake.script({ kind: 'rate-limited', retryAfter: 3 });
    await expect(embedder().embed(texts)).rejects.toMatchObject({ status: 429, retryAfterSeconds: 3 });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the provider fails then it is a ProviderError 502 after a single request', async () => {
    fake.script({ kind: 'server-error' });
    const error = await embedder()
      .embed(texts)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the key is wrong then the ProviderError is a 400 without the key', async () => {
    const error = await embedder({ apiKey: 'sk-wrong-0123456789' })
      .embed(texts)
      .catch((e: unknown) => e as ProviderError);
    expect(error).toMatchObject({
      status: 400,
      message: "The bot's OpenAI API key was rejected by the provider (401).",
    });
  });

  it('when a batch exceeds maxBatchSize then it is refused before any request', async () => {
    await expect(embedder().embed(Array.from({ length: 129 }, (_, i) => `text ${i}`))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('when there is nothing to embed then no request is made', async () => {
    await expect(embedder().embed([])).resolves.toEqual({ vectors: [], inputTokens: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it('when the model has no known size and none is configured then creating the embedder fails', () => {
    expect(() => embedder({ provider: 'openai-compatible', model: 'mystery-embed' })).toThrow(
      ValidationError,
    );
  });

  it('when the caller aborts then the request is dropped and the abort reason surfaces', async () => {
    fake.script({ kind: 'hang' });
    const controller = new AbortController();
    const pending = embedder().embed(texts, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(fake.requests[0]?.state).toBe('client-closed'));
  });
});
