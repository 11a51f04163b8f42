import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '#test/fixtures/apigw-events.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  CapturedResponseStream,
  functionUrlEvent,
  installAwsLambdaGlobal,
  type StreamingHandler,
} from '#test/fixtures/lambda-stream.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
const ANSWER = 'The IKAROS mission demonstrated solar sailing in 2010 [1].';

describe.each(databaseKinds())('chat through the Lambda streaming handler on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let handler: StreamingHandler;
  let uninstall: () => void;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, { reply: () => ANSWER });
    // The runtime's `awslambda` global must exist before streamHandle wraps the app, as in functions/chat-stream/handler.ts.
    uninstall = installAwsLambdaGlobal();
    const { streamHandle } = await import('hono/aws-lambda');
    handler = streamHandle(h.stream) as unknown as StreamingHandler;
  });
  afterAll(async () => {
    uninstall?.();
    await h.dispose();
    await database.dispose();
  });

  async function invoke(chatId: string, body: unknown, token = h.tenant.apiToken) {
    const stream = new CapturedResponseStream();
    const event = functionUrlEvent('POST', `/v1/chats/${chatId}/messages`, { token, body });
    await handler(event, stream, lambdaContext('minirag-chat-stream'));
    return stream;
  }

  it.each(['openai', 'anthropic', 'extractive'] as const)(
    'when a function URL event asks a %s bot then the SSE events are streamed through the response stream',
    async (botKind) => {
      const chatId = await h.chat(await h.bot(botKind));
      const stream = await invoke(chatId, { content: QUESTION, stream: true });

      expect(stream.metadata?.statusCode).toBe(200);
      expect(stream.metadata?.headers['content-type']).toContain('text/event-stream');
      expect(stream.metadata?.headers['cache-control']).toBe('no-cache, no-transform');
      expect(stream.metadata?.headers['x-accel-buffering']).toBe('no');
      expect(stream.ended).toBe(true);
      // Streamed as the events were produced, not one buffered body.
      expect(stream.writes.length).toBeGreaterThan(3);
      expect(stream.writes[0]!.bytes.toString()).toMatch(/^event: meta\n/);

      const events = parseSse(stream.text());
      const names = events.map((e) => e.event);
      expect(names.slice(0, 2)).toEqual(['meta', 'citations']);
      expect(names.slice(-2)).toEqual(['usage', 'done']);
      expect(names).toContain('delta');
      expect(dataOf(events, 'citations')[0].citations[0].source_id).toBe(h.solarSourceId);
      const text = dataOf(events, 'delta')
        .map((d) => d.text)
        .join('');
      expect(text).toContain('IKAROS');
      expect(dataOf(events, 'done')[0]).toMatchObject({ status: 'complete', cited: [1] });

      const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken });
      expect(saved.body.messages[1]).toMatchObject({ role: 'assistant', status: 'complete', content: text });
    },
  );

  it('when the stream flag is off then the same handler answers one JSON body', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    const stream = await invoke(chatId, { content: QUESTION });
    expect(stream.metadata?.statusCode).toBe(200);
    expect(stream.metadata?.headers['content-type']).toContain('application/json');
    const body = JSON.parse(stream.text());
    expect(body).toMatchObject({ content: ANSWER });
    expect(body.citations[0].source_id).toBe(h.solarSourceId);
  });

  it('when the bot key is refused then the metadata carries 400 and the body is problem+json', async () => {
    const chatId = await h.chat(
      await h.bot('openai', { credentials: { api_key: 'sk-not-the-right-key-000' } }),
    );
    const stream = await invoke(chatId, { content: QUESTION, stream: true });
    expect(stream.metadata?.statusCode).toBe(400);
    expect(stream.metadata?.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(stream.text()).detail).toMatch(/API key was rejected/);
  });

  it('when the token is missing or the chat unknown then 401 / 404 problems come back', async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    const anonymous = await invoke(chatId, { content: QUESTION, stream: true }, '');
    expect(anonymous.metadata?.statusCode).toBe(401);
    const unknown = await invoke(crypto.randomUUID(), { content: QUESTION, stream: true });
    expect(unknown.metadata?.statusCode).toBe(404);
    expect(unknown.metadata?.headers['content-type']).toBe('application/problem+json');
  });
});
