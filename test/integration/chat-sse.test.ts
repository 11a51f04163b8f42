import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import {
  anthropicReportedUsage,
  type BotKind,
  type ChatHarness,
  dataOf,
  openAiReportedUsage,
  parseSse,
  startChatHarness,
} from '#test/fixtures/sse.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
const ANSWER = 'The IKAROS mission demonstrated solar sailing in 2010 [1].';
const FOLLOW_UP = 'And in which year was that?';
const REWRITTEN = 'In which year did the IKAROS mission demonstrate solar sailing?';
/** Streamed calls answer; the non-streamed one is the query rewrite. */
const reply = (request: RecordedRequest) => (request.body?.stream === true ? ANSWER : REWRITTEN);

describe.each(databaseKinds())('chat over SSE on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, { reply });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  /** The provider's last streamed request, and the usage it reported for it. */
  function reported(kind: BotKind) {
    if (kind === 'extractive') return undefined;
    const fake = kind === 'openai' ? h.openai : h.anthropic;
    const request = fake.requests.filter((r) => r.body?.stream === true).at(-1)!;
    return kind === 'openai' ? openAiReportedUsage(request, ANSWER) : anthropicReportedUsage(request, ANSWER);
  }

  it.each(['openai', 'anthropic', 'extractive'] as const)(
    'when a %s bot answers then the stream is meta, citations, deltas, usage, done and everything is saved',
    async (botKind) => {
      const chatId = await h.chat(await h.bot(botKind));
      const res = await h.ask(chatId, QUESTION);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = parseSse(await res.text());
      const names = events.map((e) => e.event);
      expect(names.slice(0, 2)).toEqual(['meta', 'citations']);
      expect(names.slice(-2)).toEqual(['usage', 'done']);
      expect(new Set(names.slice(2, -2))).toEqual(new Set(['delta']));

      const [meta] = dataOf(events, 'meta');
      expect(meta).toMatchObject({ chat_id: chatId, query: QUESTION });
      const [{ citations }] = dataOf(events, 'citations');
      expect(citations[0]).toMatchObject({ n: 1, source_id: h.solarSourceId, title: 'Propulsion notes' });
      const text = dataOf(events, 'delta')
        .map((d) => d.text)
        .join('');
      if (botKind === 'extractive') expect(text).toContain('IKAROS');
      else expect(text).toBe(ANSWER);
      const [usage] = dataOf(events, 'usage');
      const [done] = dataOf(events, 'done');
      expect(done).toEqual({ message_id: meta.message_id, status: 'complete', cited: [1] });

      const fake = reported(botKind);
      if (fake) expect(usage).toMatchObject({ input_tokens: fake.input, output_tokens: fake.output });

      const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken });
      expect(saved.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
      const [question, answer] = saved.body.messages;
      expect(question).toMatchObject({ content: QUESTION, status: 'complete' });
      expect(answer).toMatchObject({
        id: meta.message_id,
        content: text,
        status: 'complete',
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
      });
      expect(answer.citations.map((c: { source_id: string }) => c.source_id)).toEqual([h.solarSourceId]);

      const rows = await h.usageRows(chatId);
      expect(rows.map((r) => r.kind).sort()).toEqual(['chat', 'embed']);
      const chat = rows.find((r) => r.kind === 'chat')!;
      expect(chat).toMatchObject({ input_tokens: usage.input_tokens, output_tokens: usage.output_tokens });
      expect(chat.provider).toBe(botKind);
      expect(rows.find((r) => r.kind === 'embed')).toMatchObject({ provider: 'offline', output_tokens: 0 });
    },
  );

  it.each(['openai', 'anthropic'] as const)(
    'when a %s chat has a second turn then the question is rewritten from the history, and billed',
    async (botKind) => {
      const fake = botKind === 'openai' ? h.openai : h.anthropic;
      const chatId = await h.chat(await h.bot(botKind));
      await (await h.ask(chatId, QUESTION)).text();
      const before = fake.requests.length;

      const events = parseSse(await (await h.ask(chatId, FOLLOW_UP)).text());
      expect(events.map((e) => e.event).at(-1)).toBe('done');
      expect(dataOf(events, 'meta')[0].query).toBe(REWRITTEN);
      const calls = fake.requests.slice(before);
      expect(calls.map((r) => r.body?.stream === true)).toEqual([false, true]); // rewrite, then the answer
      const transcript = JSON.stringify(calls[0]!.body?.messages);
      expect(transcript).toContain(QUESTION);
      expect(transcript).toContain(FOLLOW_UP);
      expect(transcript).toContain('IKAROS'); // the previous answer is part of the history

      const rewrite = (await h.usageRows(chatId)).filter((r) => r.kind === 'rewrite');
      const billed =
        botKind === 'openai'
          ? openAiReportedUsage(calls[0]!, REWRITTEN)
          : anthropicReportedUsage(calls[0]!, REWRITTEN);
      expect(rewrite).toEqual([
        { kind: 'rewrite', provider: botKind, input_tokens: billed.input, output_tokens: billed.output },
      ]);
    },
  );

  it.each(['openai', 'anthropic'] as const)(
    'when the %s rewrite call fails then the raw question is used and the answer still streams',
    async (botKind) => {
      const fake = botKind === 'openai' ? h.openai : h.anthropic;
      const chatId = await h.chat(await h.bot(botKind));
      await (await h.ask(chatId, QUESTION)).text();
      // A 429 asking for 30 s is not retried: the rewrite gives up at once.
      fake.script({ kind: 'rate-limited', retryAfter: 30 });

      const events = parseSse(await (await h.ask(chatId, FOLLOW_UP)).text());
      expect(dataOf(events, 'meta')[0].query).toBe(FOLLOW_UP);
      expect(events.map((e) => e.event).slice(-2)).toEqual(['usage', 'done']);
      expect((await h.usageRows(chatId)).filter((r) => r.kind === 'rewrite')).toEqual([]);
      expect(h.platform.logger.lines.some((l) => l.includes('query rewrite failed'))).toBe(true);
    },
  );

  it('when an extractive chat has a second turn then no rewrite is attempted', async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    await (await h.ask(chatId, QUESTION)).text();
    const events = parseSse(await (await h.ask(chatId, FOLLOW_UP)).text());
    expect(dataOf(events, 'meta')[0].query).toBe(FOLLOW_UP);
    expect((await h.usageRows(chatId)).map((r) => r.kind).sort()).toEqual(['chat', 'chat', 'embed', 'embed']);
  });
});
