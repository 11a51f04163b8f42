import { requireScope } from '../auth/authorize.ts';
import type { AnswerTrace, FeedbackRating, MessageFeedback } from '../domain/answer-trace.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Database } from '../ports/database.ts';
import { findTrace } from '../repositories/answer-traces.ts';
import { findChat, findMessage } from '../repositories/chats.ts';
import { findChunks } from '../repositories/chunks.ts';
import { listRatedAnswers, type RatedAnswer, upsertFeedback } from '../repositories/feedback.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';

/**
 * Why an answer says what it says. Same rules as reading the chat: another tenant's chat, a message of
 * another chat and an answer saved without a trace are all "not found".
 */
export async function getAnswerTrace(
  auth: AuthContext,
  chatId: string,
  messageId: string,
  deps: { db: Database },
): Promise<AnswerTrace> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    if (!(await findChat(tx, auth.tenantId, chatId))) throw new NotFoundError('Chat');
    const trace = await findTrace(tx, auth.tenantId, chatId, messageId);
    if (!trace) throw new NotFoundError('Trace');
    return trace;
  });
}

/** Rates one answer of a chat. Idempotent: the last rating given is the one kept. */
export async function rateAnswer(
  auth: AuthContext,
  chatId: string,
  messageId: string,
  input: { rating: FeedbackRating; comment?: string | undefined },
  deps: { db: Database },
): Promise<MessageFeedback> {
  requireScope(auth, 'chat');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const chat = await findChat(tx, auth.tenantId, chatId);
    if (!chat) throw new NotFoundError('Chat');
    const message = await findMessage(tx, auth.tenantId, chatId, messageId);
    if (!message) throw new NotFoundError('Message');
    if (message.role !== 'assistant') throw new ValidationError('Only answers can be rated, not questions.');
    return upsertFeedback(tx, auth.tenantId, {
      messageId,
      chatId,
      botId: chat.botId,
      rating: input.rating,
      comment: input.comment?.trim() || null,
    });
  });
}

/** A passage an answer cited: the chunk's current text, or the citation's snippet once it is gone. */
export interface CitedPassage {
  readonly n: number;
  readonly chunkId: string;
  readonly sourceId: string;
  readonly title: string;
  readonly text: string;
  /** False when the chunk was re-ingested or deleted since: `text` is then only the snippet. */
  readonly current: boolean;
}

/** Rated answers (optionally one bot's, one rating), for review and for building evaluation sets. */
export async function listFeedback(
  auth: AuthContext,
  filter: { botId?: string | undefined; rating?: FeedbackRating | undefined },
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<RatedAnswer & { passages: CitedPassage[] }>> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const rated = await listRatedAnswers(tx, auth.tenantId, filter, page);
    const chunkIds = rated.data.flatMap((r) => r.citations.flatMap((c) => c.chunkIds));
    const chunks = new Map((await findChunks(tx, auth.tenantId, chunkIds)).map((c) => [c.id, c]));
    return {
      nextCursor: rated.nextCursor,
      data: rated.data.map((r) => ({
        ...r,
        passages: r.citations.flatMap((c) =>
          c.chunkIds.map((chunkId) => {
            const chunk = chunks.get(chunkId);
            return {
              n: c.n,
              chunkId,
              sourceId: c.sourceId,
              title: c.title,
              text: chunk?.content ?? c.snippet,
              current: chunk !== undefined,
            };
          }),
        ),
      })),
    };
  });
}
