import { APIError } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicError } from '#shared/adapters/anthropic/anthropic-errors.ts';
import { createAnthropicChatModel } from '#shared/adapters/anthropic/chat-model.ts';
import type { ChatRequest } from '#shared/ports/chat-model.ts';
import {
  FAKE_ANTHROPIC_API_KEY,
  type FakeAnthropic,
  startFakeAnthropic,
} from '#test/fakes/anthropic-server.ts';

const request: ChatRequest = {
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'What is the refund window?' }],
  question: 'What is the refund window?',
  passages: [],
  temperature: 0.2,
};

describe('Anthropic chat model', () => {
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  const model = (maxRetries?: number) =>
    createAnthropicChatModel({
      apiKey: FAKE_ANTHROPIC_API_KEY,
      model: 'claude-haiku-5-5',
      baseURL: fake.url,
      ...(maxRetries === undefined ? {} : { maxRetries }),
    });

  it('when asked then it sends the system prompt top-level, a max_tokens and no temperature', async () => {
    for await (const _event of model().stream(request));
    const sent = fake.requests[0];
    expect(sent?.body).toMatchObject({
      model: 'claude-haiku-5-5',
      system: 'Be brief.',
      max_tokens: 2048,
      stream: true,
      messages: [{ role: 'user', content: 'What is the refund window?' }],
    });
    // API version 2026-10-21 answers 400 to any temperature; the fake enforces that too.
    expect(sent?.body).not.toHaveProperty('temperature');
    expect(sent?.status).toBe(200);
    expect(sent?.headers['anthropic-version']).toBe('2026-10-21');
  });

  it('when streaming then usage takes input from message_start and output from message_delta', async () => {
    fake.script({ kind: 'ok', reply: 'Fourteen days.' });
    const events = [];
    for await (const event of model().stream(request)) events.push(event);
    const streamed = events.at(-1);
    fake.script({ kind: 'ok', reply: 'Fourteen days.' });
    const completed = await model().complete(request);
    expect(streamed).toEqual({
      type: 'usage',
      inputTokens: completed.inputTokens,
      outputTokens: completed.outputTokens,
    });
    expect(completed.outputTokens).toBeGreaterThan(1);
  });

  it('when Anthropic is overloaded (529) then the request is retried', async () => {
    fake.script({ kind: 'server-error', status: 529 });
    const result = await model().complete(request);
    expect(result.text).toBe('This is a fake answer from the knowledge base [1].');
    expect(fake.requests.map((r) => r.status)).toEqual([529, 200]);
  });
});

describe('anthropicError', () => {
  const map = (status: number | undefined, type: string, headers = new Headers()) =>
    anthropicError(
      APIError.generate(
        status,
        { type: 'error', error: { type, message: 'm' } },
        undefined,
        status ? headers : undefined,
      ),
      'sk-ant-secret',
    );

  it('when the account cannot be billed then it is a credential problem (400)', () => {
    expect(map(402, 'billing_error')).toMatchObject({
      status: 400,
      message: expect.stringMatching(/cannot be billed/),
    });
  });

  it('when rate-limited then retryAfterSeconds comes from retry-after', () => {
    expect(map(429, 'rate_limit_error', new Headers({ 'retry-after': '7' }))).toMatchObject({
      status: 429,
      retryAfterSeconds: 7,
    });
  });

  it('when an overloaded_error arrives mid-stream (no status) then it is a 502', () => {
    const midStream = new APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      new Headers(),
      'overloaded_error',
    );
    expect(anthropicError(midStream, 'k')).toMatchObject({ status: 502 });
  });
});
