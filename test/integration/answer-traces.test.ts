import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { TRACE_STAGES } from '#shared/domain/answer-trace.ts';
import type { RecordedRequest } from '#test/fakes/scripted-provider-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';
/** Cites passage 1, which exists, and passage 7, which the context never had. */
const ANSWER = 'The IKAROS mission demonstrated solar sailing in 2010 [1], as the notes also say [7].';
const REWRITTEN = 'In which year did the IKAROS mission demonstrate solar sailing?';
const reply = (request: RecordedRequest) => (request.body?.stream === true ? ANSWER : REWRITTEN);

interface Span {
  stage: string;
  start_ms: number;
  ms: number;
}

/** How much of [0, total] the stages cover (parallel stages overlap, so this is a union, not a sum). */
function covered(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.start_ms - b.start_ms);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const s of sorted) {
    const start = Math.max(s.start_ms, end);
    const stop = s.start_ms + s.ms;
    if (stop > start) total += stop - start;
    end = Math.max(end, stop);
  }
  return total;
}

describe.each(databaseKinds())('answer traces and feedback on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let other: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database, { reply });
    other = await createTestTenant(h.api, 'trace-b');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const traceOf = (chatId: string, messageId: string, token = h.tenant.apiToken) =>
    call(h.api, 'GET', `/v1/chats/${chatId}/messages/${messageId}/trace`, { token });
  const rate = (chatId: string, messageId: string, body: unknown, token = h.tenant.apiToken) =>
    call(h.api, 'POST', `/v1/chats/${chatId}/messages/${messageId}/feedback`, { token, body });

  /** Asks over SSE and returns the stream's events and the client-side wall time. */
  async function askStreamed(chatId: string, question = QUESTION) {
    const started = performance.now();
    const res = await h.ask(chatId, question);
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    return { events, wallMs: performance.now() - started };
  }

  it('when a chat answers then its trace matches what was streamed: candidates, fused order, context, citations and timings', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    const { events, wallMs } = await askStreamed(chatId);
    const [meta] = dataOf(events, 'meta');
    const [{ citations }] = dataOf(events, 'citations');
    const [done] = dataOf(events, 'done');
    expect(done.message_id).toBe(meta.message_id);

    const res = await traceOf(chatId, done.message_id);
    expect(res.status, res.text).toBe(200);
    const trace = res.body;
    expect(trace).toMatchObject({
      message_id: done.message_id,
      chat_id: chatId,
      question: QUESTION,
      rewrite: { status: 'skipped', query: QUESTION },
      settings: { provider: 'openai', model: 'gpt-4o-mini', top_k: 6, score_threshold: null, tags: [] },
      status: 'complete',
    });

    // Fused order: ranks 1..n, scores never increasing; each candidate was found by at least one retriever.
    const fused = trace.candidates.filter((c: { fused: unknown }) => c.fused);
    expect(fused.length).toBeGreaterThan(0);
    expect(fused.map((c: { fused: { rank: number } }) => c.fused.rank)).toEqual(
      fused.map((_: unknown, i: number) => i + 1),
    );
    for (let i = 1; i < fused.length; i++)
      expect(fused[i].fused.score).toBeLessThanOrEqual(fused[i - 1].fused.score);
    for (const c of trace.candidates) expect(c.lexical ?? c.dense).not.toBeNull();

    // The context is exactly the streamed citations, and the kept candidates are exactly their chunks.
    expect(trace.context.passages.map((p: { n: number; chunk_ids: string[] }) => [p.n, p.chunk_ids])).toEqual(
      citations.map((c: { n: number; chunk_ids: string[] }) => [c.n, c.chunk_ids]),
    );
    const kept = trace.candidates
      .filter((c: { kept: boolean }) => c.kept)
      .map((c: { chunk_id: string }) => c.chunk_id);
    expect(new Set(kept)).toEqual(new Set(citations.flatMap((c: { chunk_ids: string[] }) => c.chunk_ids)));
    for (const c of trace.candidates)
      expect(c.kept ? c.dropped : (c.dropped ?? 'missing')).not.toBe(c.kept ? 'missing' : null);
    expect(trace.context.tokens).toBeGreaterThan(0);

    // [7] pointed at no passage: reported in the trace, absent from the citations.
    expect(trace.citations).toEqual({ used: [1], unknown: [7] });
    expect(done.cited).toEqual([1]);
    const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken });
    expect(saved.body.messages[1].citations.map((c: { n: number }) => c.n)).toEqual([1]);

    // Timings: the stages in order cover the measured total within 10%, and the total fits the wall time.
    const stages = trace.timings.map((s: Span) => s.stage);
    for (const stage of [
      'auth',
      'history',
      'quota',
      'embed',
      'dense',
      'lexical',
      'fusion',
      'assembly',
      'first_token',
      'generation',
      'save',
    ])
      expect(stages).toContain(stage);
    expect(stages.every((s: string) => (TRACE_STAGES as readonly string[]).includes(s))).toBe(true);
    expect(trace.total_ms).toBeGreaterThan(0);
    expect(trace.total_ms).toBeLessThanOrEqual(wallMs);
    expect(Math.abs(covered(trace.timings) - trace.total_ms)).toBeLessThanOrEqual(0.1 * trace.total_ms);
    const sequential = trace.timings.filter((s: Span) => !['embed', 'dense', 'lexical'].includes(s.stage));
    for (let i = 1; i < sequential.length; i++)
      expect(sequential[i].start_ms).toBeGreaterThanOrEqual(
        sequential[i - 1].start_ms + sequential[i - 1].ms - 0.05,
      );

    // Usage as saved: the query embedding and the generation, with the provider's reported tokens.
    const [usage] = dataOf(events, 'usage');
    expect(trace.usage.map((u: { kind: string }) => u.kind)).toEqual(['embed', 'chat']);
    expect(trace.usage[1]).toMatchObject({
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
    });
  });

  it('when a follow-up is asked then the trace shows the rewrite the retrievers saw', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    await askStreamed(chatId);
    const { events } = await askStreamed(chatId, 'And in which year?');
    const [done] = dataOf(events, 'done');
    const trace = (await traceOf(chatId, done.message_id)).body;
    expect(trace.rewrite).toEqual({ status: 'rewritten', query: REWRITTEN });
    expect(trace.timings.map((s: Span) => s.stage)).toContain('rewrite');
    expect(trace.usage.map((u: { kind: string }) => u.kind)).toEqual(['embed', 'rewrite', 'chat']);
  });

  it('when a bot has a score threshold then dense hits under it are reported as dropped for the threshold', async () => {
    const chatId = await h.chat(await h.bot('extractive', { retrieval: { score_threshold: 0.99 } }));
    const { events } = await askStreamed(chatId);
    const [done] = dataOf(events, 'done');
    const trace = (await traceOf(chatId, done.message_id)).body;
    const belowThreshold = trace.candidates.filter(
      (c: { dropped: string | null }) => c.dropped === 'threshold',
    );
    expect(belowThreshold.length).toBeGreaterThan(0);
    for (const c of belowThreshold) {
      expect(c.dense.score).toBeLessThan(0.99);
      expect(c.lexical).toBeNull();
      expect(c.fused).toBeNull();
    }
  });

  it('when an answer is rated twice then the last rating wins and the usage summary counts it per bot', async () => {
    const botId = await h.bot('extractive');
    const chatId = await h.chat(botId);
    const [done] = dataOf((await askStreamed(chatId)).events, 'done');
    expect((await rate(chatId, done.message_id, { rating: 'up' })).status).toBe(200);
    const again = await rate(chatId, done.message_id, { rating: 'down', comment: 'Missed the year.' });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ rating: 'down', comment: 'Missed the year.', bot_id: botId });
    const usage = await call(h.api, 'GET', '/v1/usage?group_by=bot', { token: h.tenant.apiToken });
    expect(usage.body.feedback).toContainEqual({ bot_id: botId, up: 0, down: 1, with_comment: 1 });

    const listed = await call(h.api, 'GET', `/v1/feedback?bot_id=${botId}&rating=down`, {
      token: h.tenant.apiToken,
    });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({
      message_id: done.message_id,
      question: QUESTION,
      query: QUESTION,
    });
    expect(listed.body.data[0].passages.length).toBeGreaterThan(0);
    expect(listed.body.data[0].passages[0]).toMatchObject({ current: true });
    expect(listed.body.data[0].passages[0].text).toContain('IKAROS');
  });

  it('when feedback is malformed or given to a question then 400 and nothing is stored', async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    await askStreamed(chatId);
    const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: h.tenant.apiToken });
    const [question, answer] = saved.body.messages;
    expect((await rate(chatId, question.id, { rating: 'up' })).status).toBe(400);
    expect((await rate(chatId, answer.id, { rating: 'meh' })).status).toBe(400);
    expect((await rate(chatId, answer.id, { rating: 'up', comment: 'x'.repeat(2001) })).status).toBe(400);
    expect((await rate(chatId, crypto.randomUUID(), { rating: 'up' })).status).toBe(404);
    const rows = await h.superuser.withSystem((tx) =>
      tx.query(sql`select 1 from message_feedback where chat_id = ${chatId}`),
    );
    expect(rows).toHaveLength(0);
  });

  it("when tenant B asks for A's trace or rates A's answer then 404 and A's feedback is unchanged", async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    const [done] = dataOf((await askStreamed(chatId)).events, 'done');
    expect((await rate(chatId, done.message_id, { rating: 'up' })).status).toBe(200);
    const before = await h.superuser.withSystem((tx) =>
      tx.query(
        sql`select rating, comment, updated_at from message_feedback where message_id = ${done.message_id}`,
      ),
    );

    const trace = await traceOf(chatId, done.message_id, other.apiToken);
    expect(trace.status).toBe(404);
    expect(trace.text).not.toContain(QUESTION);
    const rated = await rate(chatId, done.message_id, { rating: 'down', comment: 'planted' }, other.apiToken);
    expect(rated.status).toBe(404);
    const listed = await call(h.api, 'GET', '/v1/feedback', { token: other.apiToken });
    expect(listed.body.data).toEqual([]);

    const after = await h.superuser.withSystem((tx) =>
      tx.query(
        sql`select rating, comment, updated_at from message_feedback where message_id = ${done.message_id}`,
      ),
    );
    expect(after).toEqual(before);
    // A's own message id under another of A's chats is not found either.
    const elsewhere = await h.chat(await h.bot('extractive'));
    expect((await traceOf(elsewhere, done.message_id)).status).toBe(404);
  });

  it('when a chat is deleted then its traces and feedback go with it', async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    const [done] = dataOf((await askStreamed(chatId)).events, 'done');
    await rate(chatId, done.message_id, { rating: 'down' });
    expect((await call(h.api, 'DELETE', `/v1/chats/${chatId}`, { token: h.tenant.apiToken })).status).toBe(
      204,
    );
    const left = await h.superuser.withSystem((tx) =>
      tx.query(sql`select (select count(*) from answer_traces where chat_id = ${chatId})::int as traces,
                          (select count(*) from message_feedback where chat_id = ${chatId})::int as feedback`),
    );
    expect(left).toEqual([{ traces: 0, feedback: 0 }]);
  });

  it('when the JSON answer route answers then it carries the message id the trace is fetched by', async () => {
    const chatId = await h.chat(await h.bot('extractive'));
    const res = await call(h.api, 'POST', `/v1/chats/${chatId}/messages`, {
      token: h.tenant.apiToken,
      body: { content: QUESTION },
    });
    expect(res.status, res.text).toBe(200);
    const trace = await traceOf(chatId, res.body.message_id);
    expect(trace.status, trace.text).toBe(200);
    expect(trace.body.citations.used).toEqual(res.body.citations.map((c: { n: number }) => c.n));
  });
});
