import { describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import type { AnswerTrace } from '#shared/domain/answer-trace.ts';
import type { Citation } from '#shared/domain/chat.ts';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as traces from '#shared/repositories/answer-traces.ts';
import * as bots from '#shared/repositories/bots.ts';
import * as chats from '#shared/repositories/chats.ts';
import * as feedback from '#shared/repositories/feedback.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { walkPages } from '#test/fixtures/pages.ts';
import { insertTestTenant as newTenant, type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The feedback repository on every database: a rating replaced by the next one, the per-bot summary over
 * a time range (from inclusive, to exclusive), the rated answers with the question each one answered,
 * and another tenant seeing and changing none of it — with its own transaction (row-level security) and
 * with this tenant's transaction but the other tenant's id (the explicit tenant condition).
 */

describe.each([...databaseKinds(), ...dataApiKinds()])('feedback repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));

  /** A bot and a chat of its, in the tenant. */
  const newChat = async (tenant: TenantId) =>
    db.withTenant(tenant, async (tx) => {
      const bot = await bots.insertBot(tx, tenant, newId(), { name: 'rated' });
      const chat = await chats.insertChat(tx, tenant, {
        id: newId(),
        botId: bot.id,
        userId: null,
        title: null,
      });
      return { botId: bot.id, chatId: chat.id };
    });
  const citation = (title: string): Citation => ({
    n: 1,
    sourceId: newId(),
    title,
    chunkIds: [newId()],
    startOffset: 0,
    endOffset: 10,
    snippet: 'a passage',
  });
  const say = (tenant: TenantId, chatId: string, role: 'user' | 'assistant', content: string) =>
    db.withTenant(tenant, async (tx) => {
      const m = await chats.insertMessage(tx, tenant, {
        id: newId(),
        chatId,
        role,
        content,
        citations: role === 'assistant' ? [citation(content)] : [],
        status: 'complete',
        inputTokens: 1,
        outputTokens: 1,
      });
      return m.id;
    });
  /** Puts a rating's times where a test needs them (the repository stamps them with now()). */
  const stamp = (messageId: string, at: { created?: Date; updated?: Date }) =>
    database.superuser.withSystem((tx) =>
      tx.query(sql`update message_feedback set created_at = coalesce(${at.created ?? null}::timestamptz, created_at),
                     updated_at = coalesce(${at.updated ?? null}::timestamptz, updated_at)
                   where message_id = ${messageId}`),
    );
  const rate = (
    tenant: TenantId,
    c: { botId: string; chatId: string },
    messageId: string,
    rating: 'up' | 'down',
    comment: string | null = null,
  ) =>
    db.withTenant(tenant, (tx) => feedback.upsertFeedback(tx, tenant, { ...c, messageId, rating, comment }));

  it('when an answer is rated then every field comes back; rating it again replaces rating and comment only', async () => {
    const c = await newChat(a);
    await say(a, c.chatId, 'user', 'q');
    const answer = await say(a, c.chatId, 'assistant', 'a');
    const first = await rate(a, c, answer, 'down', 'wrong year');
    expect(first).toEqual({
      messageId: answer,
      chatId: c.chatId,
      botId: c.botId,
      rating: 'down',
      comment: 'wrong year',
      updatedAt: expect.any(Date),
    });
    const past = new Date(Date.now() - 3_600_000);
    await stamp(answer, { updated: past });
    const second = await rate(a, c, answer, 'up');
    expect(second).toMatchObject({
      messageId: answer,
      chatId: c.chatId,
      botId: c.botId,
      rating: 'up',
      comment: null,
    });
    expect(second.updatedAt.getTime()).toBeGreaterThan(past.getTime());
    const rows = await database.superuser.withSystem((tx) =>
      tx.query<{ n: number }>(
        sql`select count(*)::int as n from message_feedback where message_id = ${answer}`,
      ),
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('when ratings are summarised then each bot gets its ups, downs and comments, for ratings changed within the range', async () => {
    const tenant = await newTenant(db);
    const one = await newChat(tenant);
    const two = await newChat(tenant);
    const from = new Date('2026-03-01T00:00:00.000Z');
    const to = new Date('2026-03-02T00:00:00.000Z');
    const rated = async (c: typeof one, rating: 'up' | 'down', comment: string | null, updated: Date) => {
      const m = await say(tenant, c.chatId, 'assistant', 'x');
      await rate(tenant, c, m, rating, comment);
      await stamp(m, { updated });
    };
    await rated(one, 'up', null, from); // the range's first instant: in
    await rated(one, 'up', 'great', new Date(to.getTime() - 1));
    await rated(one, 'down', 'no', new Date('2026-03-01T12:00:00.000Z'));
    await rated(one, 'down', null, to); // the range's end: out
    await rated(one, 'up', null, new Date(from.getTime() - 1)); // before: out
    await rated(two, 'down', null, new Date('2026-03-01T06:00:00.000Z'));
    const summary = await db.withTenant(tenant, (tx) => feedback.summariseFeedback(tx, tenant, { from, to }));
    expect(summary).toEqual(
      [
        { botId: one.botId, up: 2, down: 1, withComment: 2 },
        { botId: two.botId, up: 0, down: 1, withComment: 0 },
      ].sort((x, y) => x.botId.localeCompare(y.botId)),
    );
    expect(
      await db.withTenant(tenant, (tx) =>
        feedback.summariseFeedback(tx, tenant, { from: to, to: new Date(to.getTime() + 86_400_000) }),
      ),
    ).toEqual([{ botId: one.botId, up: 0, down: 1, withComment: 0 }]);
  });

  it('when rated answers are listed then each comes with the question it answered, the rewrite and its citations', async () => {
    const tenant = await newTenant(db);
    const c = await newChat(tenant);
    const orphan = await say(tenant, c.chatId, 'assistant', 'greeting before any question');
    await say(tenant, c.chatId, 'user', 'first question');
    const firstAnswer = await say(tenant, c.chatId, 'assistant', 'first answer');
    await say(tenant, c.chatId, 'user', 'second question');
    const secondAnswer = await say(tenant, c.chatId, 'assistant', 'second answer');
    await say(tenant, c.chatId, 'user', 'a later question');
    const traced = await say(tenant, c.chatId, 'assistant', 'traced answer');
    await db.withTenant(tenant, (tx) =>
      traces.insertTrace(tx, tenant, {
        messageId: traced,
        chatId: c.chatId,
        botId: c.botId,
        question: 'the question as asked',
        rewrite: { status: 'rewritten', query: 'the rewritten query' },
        status: 'complete',
      } as unknown as AnswerTrace),
    );
    await rate(tenant, c, secondAnswer, 'down', 'outdated');
    await rate(tenant, c, firstAnswer, 'up');
    await rate(tenant, c, traced, 'up');
    await rate(tenant, c, orphan, 'down');
    // Oldest rating first: the order the ratings were created in, not the messages.
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    for (const [i, m] of [secondAnswer, firstAnswer, traced, orphan].entries())
      await stamp(m, { created: new Date(t0 + i * 1000) });

    const list = (filter: Parameters<typeof feedback.listRatedAnswers>[2], limit = 100, cursor?: string) =>
      db.withTenant(tenant, (tx) => feedback.listRatedAnswers(tx, tenant, filter, { limit, cursor }));
    const all = await list({});
    expect(all.nextCursor).toBeNull();
    expect(all.data.map((r) => [r.answer, r.question, r.query])).toEqual([
      ['second answer', 'second question', null],
      ['first answer', 'first question', null],
      ['traced answer', 'the question as asked', 'the rewritten query'],
      ['greeting before any question', '', null],
    ]);
    expect(all.data[0]).toEqual({
      id: secondAnswer,
      messageId: secondAnswer,
      chatId: c.chatId,
      botId: c.botId,
      rating: 'down',
      comment: 'outdated',
      updatedAt: expect.any(Date),
      createdAt: new Date(t0),
      question: 'second question',
      query: null,
      answer: 'second answer',
      citations: [expect.objectContaining({ n: 1, title: 'second answer', snippet: 'a passage' })],
    });
    expect((await list({ rating: 'down' })).data.map((r) => r.id)).toEqual([secondAnswer, orphan]);
    expect((await list({ rating: 'up' })).data.map((r) => r.id)).toEqual([firstAnswer, traced]);
    expect((await list({ botId: c.botId, rating: 'up' })).data.map((r) => r.id)).toEqual([
      firstAnswer,
      traced,
    ]);
    expect((await list({ botId: newId() })).data).toEqual([]);
    const page = await list({}, 3);
    expect(page.data.map((r) => r.id)).toEqual([secondAnswer, firstAnswer, traced]);
    expect(page.nextCursor).not.toBeNull();
    expect(await walkPages((cursor) => list({}, 1, cursor))).toEqual(all.data.map((r) => r.id));
  });

  it("when another tenant's id is used, by its own transaction or in this tenant's, then no rating is seen or changed", async () => {
    const c = await newChat(a);
    await say(a, c.chatId, 'user', 'q');
    const answer = await say(a, c.chatId, 'assistant', 'a');
    const mine = await rate(a, c, answer, 'up', 'fine');
    const range = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) };
    const attempts = async (tenant: TenantId, run: typeof asA) => {
      await expect(
        run((tx) =>
          feedback.upsertFeedback(tx, tenant, { ...c, messageId: answer, rating: 'down', comment: 'x' }),
        ),
      ).rejects.toThrow();
      expect(await run((tx) => feedback.summariseFeedback(tx, tenant, range))).toEqual([]);
      expect((await run((tx) => feedback.listRatedAnswers(tx, tenant, {}, { limit: 100 }))).data).toEqual([]);
      expect(
        (await run((tx) => feedback.listRatedAnswers(tx, tenant, { botId: c.botId }, { limit: 100 }))).data,
      ).toEqual([]);
    };
    await attempts(b, (fn) => db.withTenant(b, fn));
    await attempts(b, asA);
    const listed = await asA((tx) => feedback.listRatedAnswers(tx, a, { botId: c.botId }, { limit: 100 }));
    expect(listed.data).toEqual([expect.objectContaining({ ...mine, id: answer })]);
    const summary = await asA((tx) => feedback.summariseFeedback(tx, a, range));
    expect(summary).toContainEqual({ botId: c.botId, up: 1, down: 0, withComment: 1 });
  });
});
