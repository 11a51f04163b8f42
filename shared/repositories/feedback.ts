import { sql } from '../db/sql.ts';
import type { FeedbackRating, MessageFeedback } from '../domain/answer-trace.ts';
import type { Citation } from '../domain/chat.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface FeedbackRow {
  message_id: string;
  chat_id: string;
  bot_id: string;
  rating: FeedbackRating;
  comment: string | null;
  updated_at: Date;
}

const toFeedback = (r: FeedbackRow): MessageFeedback => ({
  messageId: r.message_id,
  chatId: r.chat_id,
  botId: r.bot_id,
  rating: r.rating,
  comment: r.comment,
  updatedAt: r.updated_at,
});

/** Rates an answer; rating it again replaces the earlier rating and comment (last write wins). */
export async function upsertFeedback(
  tx: Queryable,
  tenantId: TenantId,
  f: Omit<MessageFeedback, 'updatedAt'>,
): Promise<MessageFeedback> {
  const [row] = await tx.query<FeedbackRow>(sql`
    insert into message_feedback (message_id, tenant_id, chat_id, bot_id, rating, comment)
    values (${f.messageId}, ${tenantId}, ${f.chatId}, ${f.botId}, ${f.rating}, ${f.comment})
    on conflict (message_id) do update
      set rating = excluded.rating, comment = excluded.comment, updated_at = now()
    returning message_id, chat_id, bot_id, rating, comment, updated_at`);
  return toFeedback(row!);
}

export interface FeedbackSummaryRow {
  readonly botId: string;
  readonly up: number;
  readonly down: number;
  readonly withComment: number;
}

/** Ratings per bot, for ratings last given within the range. */
export async function summariseFeedback(
  tx: Queryable,
  tenantId: TenantId,
  range: { from: Date; to: Date },
): Promise<FeedbackSummaryRow[]> {
  const rows = await tx.query<{ bot_id: string; up: number; down: number; with_comment: number }>(sql`
    select bot_id::text, count(*) filter (where rating = 'up')::int as up,
           count(*) filter (where rating = 'down')::int as down,
           count(comment)::int as with_comment
    from message_feedback
    where tenant_id = ${tenantId} and updated_at >= ${range.from} and updated_at < ${range.to}
    group by bot_id order by bot_id`);
  return rows.map((r) => ({ botId: r.bot_id, up: r.up, down: r.down, withComment: r.with_comment }));
}

/** A rated answer with what a reviewer needs: the question, the answer and the passages it cited. */
export interface RatedAnswer extends MessageFeedback {
  /** The message id again: what the page cursor keys on. */
  readonly id: string;
  readonly question: string;
  /** The query retrieval ran (the rewrite), when the answer has a trace. */
  readonly query: string | null;
  readonly answer: string;
  readonly citations: Citation[];
  readonly createdAt: Date;
}

/** A bot's rated answers, oldest rating first, keyset-paginated on when the rating was created. */
export async function listRatedAnswers(
  tx: Queryable,
  tenantId: TenantId,
  filter: { botId?: string | undefined; rating?: FeedbackRating | undefined },
  page: PageRequest,
): Promise<Page<RatedAnswer>> {
  const byBot = filter.botId ? sql` and f.bot_id = ${filter.botId}` : sql``;
  const byRating = filter.rating ? sql` and f.rating = ${filter.rating}` : sql``;
  const rows = await tx.query<
    FeedbackRow & {
      id: string;
      created_at: Date;
      question: string | null;
      query: string | null;
      answer: string;
      citations: Citation[];
    }
  >(sql`
    select * from (
      select f.message_id as id, f.message_id, f.chat_id, f.bot_id, f.rating, f.comment, f.updated_at,
             f.created_at, m.content as answer, m.citations,
             t.trace -> 'rewrite' ->> 'query' as query,
             coalesce(t.trace ->> 'question', (
               select q.content from messages q
               where q.tenant_id = m.tenant_id and q.chat_id = m.chat_id and q.role = 'user'
                 and q.created_at < m.created_at
               order by q.created_at desc limit 1)) as question
      from message_feedback f
      join messages m on m.tenant_id = f.tenant_id and m.id = f.message_id
      left join answer_traces t on t.tenant_id = f.tenant_id and t.message_id = f.message_id
      where f.tenant_id = ${tenantId} ${byBot} ${byRating}
    ) rated where true ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(
    rows.map((r) => ({
      ...toFeedback(r),
      id: r.message_id,
      question: r.question ?? '',
      query: r.query,
      answer: r.answer,
      citations: r.citations,
      createdAt: r.created_at,
    })),
    page.limit,
  );
}
