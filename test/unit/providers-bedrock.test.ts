import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockError, redactAwsMessage } from '#shared/adapters/bedrock/bedrock-errors.ts';
import { createBedrockChatModel } from '#shared/adapters/bedrock/chat-model.ts';
import { createBedrockClients } from '#shared/adapters/bedrock/clients.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { ChatEvent, ChatRequest } from '#shared/ports/chat-model.ts';
import { FAKE_AWS_CREDENTIALS, type FakeBedrock, startFakeBedrock } from '#test/fakes/bedrock-server.ts';

const request: ChatRequest = {
  system: 'Answer from the sources.',
  messages: [{ role: 'user', content: 'What is the refund window?' }],
  question: 'What is the refund window?',
  passages: [],
  temperature: 0.2,
  maxOutputTokens: 300,
};

const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

describe('Bedrock chat model (ConverseStream through the SDK against the stand-in)', () => {
  let fake: FakeBedrock;
  beforeAll(async () => {
    fake = await startFakeBedrock({ echoCredentials: true, deniedModels: ['meta.llama-denied'] });
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  const model = (
    options: { model?: string; region?: string; timeoutMs?: number; maxRetries?: number } = {},
  ) => {
    const clients = createBedrockClients({
      defaultRegion: 'us-east-1',
      runtimeEndpoint: fake.url,
      credentials: FAKE_AWS_CREDENTIALS,
    });
    const region = options.region ?? 'us-east-1';
    return createBedrockChatModel({
      client: clients.runtime(region),
      model: options.model ?? MODEL,
      region,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    });
  };

  async function collect(stream: AsyncIterable<ChatEvent>) {
    const events: ChatEvent[] = [];
    try {
      for await (const event of stream) events.push(event);
    } catch (error) {
      return { events, error };
    }
    return { events, error: undefined };
  }

  it('when streaming then deltas arrive in order and usage comes from the metadata event', async () => {
    fake.script({ kind: 'ok', reply: 'Refunds are accepted for 14 days [1].' });
    const { events, error } = await collect(model().stream(request));
    expect(error).toBeUndefined();
    const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(text).toBe('Refunds are accepted for 14 days [1].');
    expect(events.filter((e) => e.type === 'delta').length).toBeGreaterThan(3);
    const usage = events.at(-1);
    expect(usage?.type).toBe('usage');
    expect(usage).toMatchObject({ type: 'usage' });
    expect((usage as { inputTokens: number }).inputTokens).toBeGreaterThan(5);
    expect((usage as { outputTokens: number }).outputTokens).toBeGreaterThan(5);
  });

  it('when asked then it sends Converse JSON: system blocks, user content blocks, inference config, signed for bedrock', async () => {
    await collect(model({ region: 'eu-west-1' }).stream({ ...request, temperature: 1.6 }));
    const sent = fake.requests[0]!;
    expect(sent.endpoint).toBe('converse-stream');
    expect(sent.modelId).toBe(MODEL);
    expect(sent.region).toBe('eu-west-1');
    expect(sent.accessKeyId).toBe(FAKE_AWS_CREDENTIALS.accessKeyId);
    expect(sent.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'What is the refund window?' }] }],
      system: [{ text: 'Answer from the sources.' }],
      // Bedrock's models take 0–1; a bot's 1.6 is capped.
      inferenceConfig: { temperature: 1, maxTokens: 300 },
    });
  });

  it('when not streaming then Converse answers with text and usage', async () => {
    fake.script({ kind: 'ok', reply: 'Fourteen days.' });
    const completion = await model().complete(request);
    expect(completion.text).toBe('Fourteen days.');
    expect(completion.outputTokens).toBeGreaterThan(0);
    expect(fake.requests[0]?.endpoint).toBe('converse');
  });

  it('when Bedrock throttles before the first token then the call is retried and succeeds', async () => {
    fake.script({ kind: 'error', error: 'ThrottlingException' }, { kind: 'ok', reply: 'Second try.' });
    const { events, error } = await collect(model().stream(request));
    expect(error).toBeUndefined();
    expect(events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('')).toBe('Second try.');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('when throttling persists then the caller gets 429 with a retry-after', async () => {
    fake.setDefault({ kind: 'error', error: 'ThrottlingException' });
    const { error } = await collect(model({ maxRetries: 1 }).stream(request));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    expect(fake.requests).toHaveLength(2);
  });

  it('when an exception frame arrives mid-stream then the deltas stay, the error is a 502 and nothing is retried', async () => {
    fake.script({
      kind: 'stream-exception',
      afterChunks: 3,
      exception: 'throttlingException',
      reply: 'one two three four five six',
    });
    const { events, error } = await collect(model().stream(request));
    expect(events.map((e) => (e.type === 'delta' ? e.text : '')).join('')).toBe('one two three ');
    expect(error).toBeInstanceOf(ProviderError);
    // Throttling after text was shown is not retried (the reader would see text twice).
    expect((error as ProviderError).status).toBe(429);
    expect(fake.requests).toHaveLength(1);
  });

  it('when the model stream fails mid-answer then it is a 502', async () => {
    fake.script({ kind: 'stream-exception', afterChunks: 2, exception: 'modelStreamErrorException' });
    const { error } = await collect(model().stream(request));
    expect(error).toMatchObject({ status: 502 });
  });

  it('when the connection is cut mid-stream then the stream ends with a 502, never quietly', async () => {
    fake.script({ kind: 'cut-stream', afterChunks: 2 });
    const { events, error } = await collect(model().stream(request));
    expect(events.some((e) => e.type === 'delta')).toBe(true);
    expect(error).toMatchObject({ status: 502 });
  });

  it('when model access is not enabled then it is a 400 naming the model and saying to enable access', async () => {
    const { error } = await collect(model({ model: 'meta.llama-denied' }).stream(request));
    expect(error).toMatchObject({ status: 400 });
    const message = (error as Error).message;
    expect(message).toContain("'meta.llama-denied'");
    expect(message).toMatch(/enable model access/);
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['ValidationException', 400],
    ['ModelTimeoutException', 502],
    ['ServiceUnavailableException', 502],
    ['ResourceNotFoundException', 400],
  ] as const)(
    'when Bedrock answers %s then the status is %i and no credential is quoted',
    async (name, status) => {
      fake.setDefault({ kind: 'error', error: name });
      const { error } = await collect(model({ maxRetries: 0 }).stream(request));
      expect(error).toMatchObject({ status });
      const text = `${(error as Error).message} ${JSON.stringify(error)}`;
      for (const secret of Object.values(FAKE_AWS_CREDENTIALS)) expect(text).not.toContain(secret);
      expect(text).not.toContain('Signature=');
    },
  );

  it('when the caller aborts then the stream rejects with the abort reason, not a ProviderError', async () => {
    fake.script({ kind: 'hang' });
    const controller = new AbortController();
    const reason = new Error('client left');
    setTimeout(() => controller.abort(reason), 50);
    const { error } = await collect(model().stream({ ...request, signal: controller.signal }));
    expect(error).toBe(reason);
  });

  it('when Bedrock is silent then the idle timeout ends the call as a 502', async () => {
    fake.setDefault({ kind: 'hang' });
    const { error } = await collect(model({ timeoutMs: 100, maxRetries: 0 }).stream(request));
    expect(error).toMatchObject({ status: 502 });
    expect((error as Error).message).toMatch(/Amazon Bedrock did not respond/);
  });
});

describe('bedrockError', () => {
  it('when a message quotes signing material then it is redacted', () => {
    const text = redactAwsMessage(
      `denied for AWS4-HMAC-SHA256 Credential=${FAKE_AWS_CREDENTIALS.accessKeyId}/20261206/us-east-1/bedrock/aws4_request, Signature=abc123; token ${FAKE_AWS_CREDENTIALS.sessionToken}`,
    );
    for (const secret of Object.values(FAKE_AWS_CREDENTIALS)) expect(text).not.toContain(secret);
    expect(text).not.toContain('abc123');
  });

  it('when the credential chain finds nothing then it is the operator’s problem, not retried', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(bedrockError(error, { model: 'm', region: 'us-east-1' })).toMatchObject({
      status: 502,
      retryable: false,
    });
  });
});
