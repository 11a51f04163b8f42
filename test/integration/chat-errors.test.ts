import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, readSse, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant } from '#test/fixtures/tenants.ts';

const LONG_REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
const WRONG_KEY = 'sk-wrong-key-0123456789';

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(databaseKinds())('chat errors on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  /** A problem+json response, not an event stream. */
  async function expectProblemResponse(res: Response, status: number) {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    return JSON.parse(text);
  }
  const messages = async (chatId: string) =>
    (await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken })).body.messages;

  it.each([
    ['openai', 'OpenAI'],
    ['anthropic', 'Anthropic'],
  ] as const)(
    'when the %s bot key is refused (401) then 400 problem+json names the bot credential, before any SSE',
    async (provider, label) => {
      const botId = await h.bot(provider, { credentials: { api_key: WRONG_KEY } });
      const chatId = await h.chat(botId);
      const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
      const problem = await expectProblemResponse(res, 400);
      // A refused call is an ordinary error: nothing half written, and no generation billed.
      expect(await messages(chatId)).toEqual([]);
      const usage = await call(h.api, 'GET', '/v1/usage?group_by=bot', { token: h.tenant.apiToken });
      const billed = usage.body.data.filter(
        (r: { key: string; kind: string }) => r.key === botId && r.kind === 'chat',
      );
      expect(billed).toEqual([]);
      expect(problem.detail).toMatch(new RegExp(`bot's ${label} API key was rejected`));
      expect(JSON.stringify(problem)).not.toContain(WRONG_KEY);
      const fake = provider === 'openai' ? h.openai : h.anthropic;
      expect(fake.requests.at(-1)?.status).toBe(401);
    },
  );

  it('when the provider rate-limits the bot then 429 problem+json with retry-after, before any SSE', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    h.openai.script({ kind: 'rate-limited', retryAfter: 30 });
    const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
    await expectProblemResponse(res, 429);
    expect(res.headers.get('retry-after')).toBe('30');
  });

  it("when a tenant asks in another tenant's chat then 404 problem+json and the provider is never called", async () => {
    const other = await createTestTenant(h.api, 'intruder');
    const chatId = await h.chat(await h.bot('openai'));
    const before = h.openai.requests.length;
    const res = await h.ask(chatId, 'What is in your notes?', { token: other.apiToken });
    await expectProblemResponse(res, 404);
    expect(h.openai.requests.length).toBe(before);
    expect(await messages(chatId)).toEqual([]);
  });

  it('when the provider stream is cut halfway then an SSE error follows the deltas and a partial answer is saved', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    h.openai.script({ kind: 'cut-stream', afterChunks: 6, reply: LONG_REPLY });
    const res = await h.ask(chatId, 'Tell me everything about solar sails.');
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names.slice(0, 2)).toEqual(['meta', 'citations']);
    expect(names.at(-1)).toBe('error');
    expect(names).not.toContain('done');
    const deltas = dataOf(events, 'delta').map((d) => d.text);
    expect(deltas.length).toBeGreaterThan(0);
    const [error] = dataOf(events, 'error');
    expect(error).toMatchObject({ status: 502 });
    expect(error.detail).toMatch(/ended unexpectedly/);

    const [question, answer] = await messages(chatId);
    expect(question.role).toBe('user');
    expect(answer).toMatchObject({ role: 'assistant', status: 'partial', content: deltas.join('') });
    expect(LONG_REPLY.startsWith(answer.content)).toBe(true);
    expect(answer.content.length).toBeLessThan(LONG_REPLY.length);
    expect((await h.usageRows(chatId)).map((r) => r.kind)).toContain('chat');
  });

  it('when the client cancels the stream then the provider call is aborted and a partial answer is saved', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    h.openai.script({ kind: 'ok', reply: LONG_REPLY, chunkDelayMs: 30 });
    const res = await h.ask(chatId, 'Tell me everything about solar sails.');
    const reader = res.body!;
    let received = '';
    for await (const event of readSse(reader)) {
      if (event.event === 'delta') received += JSON.parse(event.data).text;
      if (received.split(' ').length > 3) break; // leaving the loop cancels the body: the client went away
    }
    const call = h.openai.requests.at(-1)!;
    await waitFor('the provider to see the socket close', () => call.state === 'client-closed');
    let saved: { status: string; content: string } | undefined;
    await waitFor('the partial answer', async () => {
      saved = (await messages(chatId))[1];
      return saved !== undefined;
    });
    expect(saved?.status).toBe('partial');
    expect(saved?.content.startsWith(received)).toBe(true);
    expect(saved!.content.length).toBeLessThan(LONG_REPLY.length);
  });

  it('when an HTTP client aborts its request mid-stream then the provider call is aborted and a partial answer is saved', async () => {
    const server = serve({ fetch: h.stream.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const chatId = await h.chat(await h.bot('anthropic'));
      h.anthropic.script({ kind: 'ok', reply: LONG_REPLY, chunkDelayMs: 30 });
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/v1/chats/${chatId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.tenant.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'Tell me everything about solar sails.', stream: true }),
        signal: controller.signal,
      });
      let deltas = 0;
      await expect(
        (async () => {
          for await (const event of readSse(res.body!)) {
            if (event.event === 'delta' && ++deltas === 3) controller.abort();
          }
        })(),
      ).rejects.toThrow();
      const call = h.anthropic.requests.at(-1)!;
      await waitFor('the provider to see the socket close', () => call.state === 'client-closed');
      let saved: { status: string; content: string } | undefined;
      await waitFor('the partial answer', async () => {
        saved = (await messages(chatId))[1];
        return saved !== undefined;
      });
      expect(saved?.status).toBe('partial');
      expect(saved!.content.length).toBeGreaterThan(0);
      expect(LONG_REPLY.startsWith(saved!.content)).toBe(true);
      expect(saved!.content.length).toBeLessThan(LONG_REPLY.length);
    } finally {
      await new Promise((resolve) => {
        server.close(resolve);
        if ('closeAllConnections' in server) server.closeAllConnections(); // no 5 s keep-alive wait
      });
    }
  });
});
