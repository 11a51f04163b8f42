import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenAiChatModel } from '#shared/adapters/openai/chat-model.ts';
import { openAiError } from '#shared/adapters/openai/openai-errors.ts';
import type { ProviderError } from '#shared/domain/errors.ts';
import type { ChatRequest } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { FAKE_OPENAI_API_KEY, type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';

const request: ChatRequest = {
  system: 'Be brief.',
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'What is the refund window?' },
  ],
  question: 'What is the refund window?',
  passages: [],
  temperature: 0.2,
  maxOutputTokens: 300,
};

describe('OpenAI chat model', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.reset();
    vi.unstubAllEnvs();
  });

  const model = (options: Partial<Parameters<typeof createOpenAiChatModel>[0]> = {}) =>
    createOpenAiChatModel({
      apiKey: FAKE_OPENAI_API_KEY,
      model: 'gpt-4o-mini',
      baseURL: fake.url,
      ...options,
    });

  it('when streaming then it asks for the usage chunk and sends the system prompt first', async () => {
    await model().complete(request);
    for await (const _event of model().stream(request));
    const body = fake.requests[1]?.body;
    expect(body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_completion_tokens: 300,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'What is the refund window?' },
      ],
    });
    expect(fake.requests[0]?.body).not.toHaveProperty('stream_options');
    expect(fake.requests[1]?.headers['authorization']).toBe(`Bearer ${FAKE_OPENAI_API_KEY}`);
  });

  it('when the server is OpenAI-compatible then the output limit goes out as max_tokens', async () => {
    await model({ provider: 'openai-compatible' }).complete(request);
    expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 300 });
    expect(fake.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
  });

  it('when the server reports no usage then the tokens are counted locally', async () => {
    fake.script({ kind: 'ok', reply: 'Fourteen days.', omitUsage: true });
    const result = await model({ provider: 'openai-compatible' }).complete(request);
    const prompt = ['Be brief.', 'Hi', 'Hello.', 'What is the refund window?'];
    expect(result.outputTokens).toBe(countTokens('Fourteen days.'));
    expect(result.inputTokens).toBe(prompt.reduce((sum, text) => sum + countTokens(text) + 4, 3));
  });

  it("when the operator's environment has OPENAI_* settings then a tenant's request ignores them", async () => {
    vi.stubEnv('OPENAI_ORG_ID', 'org-operator');
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:1/v1');
    await model().complete(request);
    expect(fake.requests[0]?.headers).not.toHaveProperty('openai-organization');
    await model({ organization: 'org-tenant' }).complete(request);
    expect(fake.requests[1]?.headers['openai-organization']).toBe('org-tenant');
  });
});

describe('openAiError', () => {
  const headers = (entries: Record<string, string> = {}) => new Headers(entries);
  const map = (status: number, error: object, h = headers()) =>
    openAiError(
      APIError.generate(status, { error }, undefined, h),
      'openai',
      'sk-secret-key-123456',
    ) as ProviderError;

  it('when the quota is exhausted then it is a credential problem (400), not a rate limit', () => {
    const error = map(429, { code: 'insufficient_quota', message: 'You exceeded your current quota' });
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(/no quota left/) });
  });

  it('when OpenAI gives retry-after-ms then retryAfterSeconds is rounded up', () => {
    expect(map(429, { code: 'rate_limit_exceeded' }, headers({ 'retry-after-ms': '1500' }))).toMatchObject({
      status: 429,
      retryAfterSeconds: 2,
    });
  });

  it('when retry-after is an HTTP date then retryAfterSeconds counts down to it', () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const error = map(429, {}, headers({ 'retry-after': at }));
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it('when the model or URL does not exist then it is the bot configuration (400)', () => {
    expect(map(404, { message: 'The model `gpt-9` does not exist' })).toMatchObject({ status: 400 });
  });

  it('when the provider rejects the request then its message is quoted with keys redacted', () => {
    const error = map(400, { message: 'Bad value near sk-secret-key-123456 and sk-proj-abcdefghijkl' });
    expect(error.status).toBe(502);
    expect(error.message).toContain('rejected the request (400)');
    expect(error.message).not.toContain('sk-secret');
    expect(error.message).not.toContain('sk-proj');
  });
});
