import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';

const GRACE_MS = 300;
const KEEP_ALIVE_MS = 150;
/** The provider's first byte comes this long after the request: well past the grace period. */
const PROVIDER_DELAY_MS = 1200;
const QUESTION = 'Which mission demonstrated solar sailing?';

interface TimedBlock {
  /** The raw SSE block: an event, or a `:` comment. */
  readonly text: string;
  readonly at: number;
}

/** Every block of a text/event-stream body, comments included, with the time it arrived. */
async function readBlocks(body: ReadableStream<Uint8Array>): Promise<TimedBlock[]> {
  const decoder = new TextDecoder();
  const blocks: TimedBlock[] = [];
  let buffer = '';
  const reader = body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffer += decoder.decode(read.value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      blocks.push({ text: buffer.slice(0, end), at: performance.now() });
      buffer = buffer.slice(end + 2);
    }
  }
  return blocks;
}

const isKeepAlive = (b: TimedBlock) => b.text.startsWith(':');
const eventName = (b: TimedBlock) => /^event: ?(.*)$/m.exec(b.text)?.[1];

describe.each(databaseKinds())('a provider slow to its first event, on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let botId: string;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, {
      platform: {
        env: { CHAT_FIRST_EVENT_GRACE_MS: String(GRACE_MS), SSE_KEEPALIVE_MS: String(KEEP_ALIVE_MS) },
      },
    });
    botId = await h.bot('openai');
  });
  afterAll(async () => {
    await h?.dispose();
    await database?.dispose();
  });

  /** When the provider's (last) streamed request arrived. */
  const providerAsked = () => h.openai.requests.filter((r) => r.body?.stream === true).at(-1)!.receivedAt;

  it('when the first event takes longer than the grace period then meta goes out after it, keep-alives follow and the answer completes', async () => {
    h.openai.script({ kind: 'ok', on: 'chat', delayMs: PROVIDER_DELAY_MS });
    const res = await h.ask(await h.chat(botId), QUESTION);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const blocks = await readBlocks(res.body!);
    const asked = providerAsked();

    const meta = blocks.find((b) => eventName(b) === 'meta')!;
    const firstDelta = blocks.find((b) => eventName(b) === 'delta')!;
    expect(blocks[0]).toBe(meta);
    expect(meta.at - asked).toBeLessThanOrEqual(GRACE_MS + 100);
    expect(firstDelta.at - asked).toBeGreaterThanOrEqual(PROVIDER_DELAY_MS);
    // While the provider is silent the stream is not: keep-alives at the configured interval.
    const waiting = blocks.filter((b) => isKeepAlive(b) && b.at < firstDelta.at);
    expect(waiting.length).toBeGreaterThanOrEqual(3);
    expect(blocks.map(eventName).filter(Boolean).slice(-2)).toEqual(['usage', 'done']);
  });

  it('when the provider refuses within the grace period then the answer is a plain problem response', async () => {
    h.openai.script({ kind: 'unauthorized', on: 'chat', delayMs: GRACE_MS / 3 });
    const res = await h.ask(await h.chat(botId), QUESTION);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('when the provider refuses after the grace period then the stream reports it as an error event', async () => {
    h.openai.script({ kind: 'unauthorized', on: 'chat', delayMs: GRACE_MS * 3 });
    const res = await h.ask(await h.chat(botId), QUESTION);
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual(['meta', 'error']);
    expect(dataOf(events, 'error')[0]).toMatchObject({ status: 400 });
  });

  it('when an OpenAI-compatible client streams from a slow provider then the role chunk goes out after the grace period', async () => {
    h.openai.script({ kind: 'ok', on: 'chat', delayMs: PROVIDER_DELAY_MS });
    const res = await h.stream.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tenant.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: botId, messages: [{ role: 'user', content: QUESTION }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const blocks = await readBlocks(res.body!);
    const asked = providerAsked();
    const first = blocks.find((b) => !isKeepAlive(b))!;
    expect(JSON.parse(first.text.replace(/^data: ?/, '')).choices[0].delta.role).toBe('assistant');
    expect(first.at - asked).toBeLessThanOrEqual(GRACE_MS + 100);
    expect(blocks.filter(isKeepAlive).length).toBeGreaterThanOrEqual(3);
    expect(blocks.at(-1)?.text).toBe('data: [DONE]');
  });
});
