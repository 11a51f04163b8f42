import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FAKE_ANTHROPIC_API_KEY,
  type FakeAnthropic,
  startFakeAnthropic,
} from '#test/fakes/anthropic-server.ts';
import { FAKE_OPENAI_API_KEY, type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';

/** The fakes' wire format, read raw (no SDK), since other suites and the benchmarks rely on it. */
const post = (url: string, body: unknown, headers: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const dataLines = (text: string) => text.split('\n\n').filter(Boolean);

describe('fake OpenAI server', () => {
  let fake: FakeOpenAi;
  const auth = { authorization: `Bearer ${FAKE_OPENAI_API_KEY}` };
  beforeAll(async () => {
    fake = await startFakeOpenAi({ reply: 'One two three.' });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('when a chat is streamed with include_usage then chunks end with a usage chunk and data: [DONE]', async () => {
    const response = await post(
      `${fake.url}/chat/completions`,
      {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      },
      auth,
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = dataLines(await response.text());
    expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    expect(chunks[0]).toMatchObject({
      object: 'chat.completion.chunk',
      usage: null,
      choices: [{ delta: { role: 'assistant' } }],
    });
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 4 },
    });
    expect(chunks.at(-2)).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('One two three.');
  });

  it('when the bearer key is missing then it answers 401 with OpenAI error JSON', async () => {
    const response = await post(`${fake.url}/embeddings`, { model: 'm', input: 'x' }, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_api_key' },
    });
  });

  it('when a behaviour is scripted for one endpoint then requests to the other do not take it', async () => {
    fake.script({ kind: 'server-error', on: 'embeddings' });
    const chat = await post(
      `${fake.url}/chat/completions`,
      { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      auth,
    );
    const embeddings = await post(`${fake.url}/embeddings`, { model: 'm', input: ['x'] }, auth);
    expect([chat.status, embeddings.status]).toEqual([200, 500]);
  });

  it('when fail-ratio is the default then the same seed fails the same requests', async () => {
    const run = async () => {
      fake.reset();
      fake.setDefault({
        kind: 'fail-ratio',
        ratio: 0.3,
        seed: 42,
        failure: { kind: 'rate-limited', retryAfter: 0 },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++)
        statuses.push((await post(`${fake.url}/embeddings`, { model: 'm', input: 'x' }, auth)).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const failures = first.filter((s) => s === 429).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(18);
  });

  it('when an embedding input is empty then it answers 400 as OpenAI does', async () => {
    const response = await post(`${fake.url}/embeddings`, { model: 'm', input: ['ok', ''] }, auth);
    expect(response.status).toBe(400);
  });
});

describe('fake Anthropic server', () => {
  let fake: FakeAnthropic;
  const headers = { 'x-api-key': FAKE_ANTHROPIC_API_KEY, 'anthropic-version': '2023-06-01' };
  const body = { model: 'claude-haiku-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
  beforeAll(async () => {
    fake = await startFakeAnthropic({ reply: 'One two.' });
  });
  afterAll(() => fake.close());

  it('when streamed then the events follow the Messages API sequence', async () => {
    const response = await post(`${fake.url}/v1/messages`, { ...body, stream: true }, headers);
    const events = dataLines(await response.text()).map((frame) => frame.split('\n')[0]);
    expect(events).toEqual([
      'event: message_start',
      'event: content_block_start',
      'event: ping',
      'event: content_block_delta',
      'event: content_block_delta',
      'event: content_block_stop',
      'event: message_delta',
      'event: message_stop',
    ]);
  });

  it('when the key is wrong then it answers 401 with Anthropic error JSON', async () => {
    const response = await post(`${fake.url}/v1/messages`, body, { ...headers, 'x-api-key': 'nope' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    });
  });

  it('when API version 2026-10-21 gets a temperature then it answers 400', async () => {
    const response = await post(
      `${fake.url}/v1/messages`,
      { ...body, temperature: 1 },
      { ...headers, 'anthropic-version': '2026-10-21' },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: 'temperature: Extra inputs are not permitted' },
    });
  });
});
