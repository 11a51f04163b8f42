import { createRoute, z } from '@hono/zod-openapi';
import {
  type AnswerTrace,
  DROP_REASONS,
  FEEDBACK_RATINGS,
  type MessageFeedback,
  REWRITE_STATUSES,
  TRACE_STAGES,
} from '#shared/domain/answer-trace.ts';
import { MESSAGE_STATUSES } from '#shared/domain/chat.ts';
import { USAGE_KINDS } from '#shared/domain/usage.ts';
import type { createRouter } from '#shared/http/router.ts';
import { iso, json, jsonBody, requires, standardErrors, text } from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { getAnswerTrace, rateAnswer } from '#shared/usecases/answer-insight.ts';

const MessageParams = z.object({
  chat_id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'chat_id', in: 'path' } }),
  message_id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'message_id', in: 'path' } }),
});

const RankScore = z.object({ rank: z.number().int(), score: z.number() }).nullable();

const TraceSchema = z
  .object({
    message_id: z.string(),
    chat_id: z.string(),
    bot_id: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    question: z.string(),
    rewrite: z.object({ status: z.enum(REWRITE_STATUSES), query: z.string() }),
    settings: z.object({
      provider: z.string(),
      model: z.string(),
      top_k: z.number(),
      score_threshold: z.number().nullable(),
      tags: z.array(z.string()),
      candidates_per_retriever: z.number(),
      context_budget_tokens: z.number(),
    }),
    candidates: z.array(
      z.object({
        chunk_id: z.string(),
        source_id: z.string().nullable(),
        title: z.string().nullable(),
        snippet: z.string().nullable(),
        lexical: RankScore,
        dense: RankScore,
        fused: RankScore,
        kept: z.boolean(),
        passage: z.number().nullable(),
        dropped: z.enum(DROP_REASONS).nullable(),
      }),
    ),
    context: z.object({
      tokens: z.number(),
      passages: z.array(
        z.object({
          n: z.number(),
          source_id: z.string(),
          title: z.string(),
          chunk_ids: z.array(z.string()),
          tokens: z.number(),
        }),
      ),
    }),
    citations: z.object({
      used: z.array(z.number()),
      unknown: z
        .array(z.number())
        .openapi({ description: '[n] markers that pointed at no passage; left out of the citations' }),
    }),
    timings: z.array(z.object({ stage: z.enum(TRACE_STAGES), start_ms: z.number(), ms: z.number() })),
    total_ms: z.number(),
    usage: z.array(
      z.object({
        kind: z.enum(USAGE_KINDS),
        provider: z.string(),
        model: z.string(),
        input_tokens: z.number(),
        output_tokens: z.number(),
      }),
    ),
    created_at: z.string(),
  })
  .openapi('AnswerTrace');

export const traceJson = (t: AnswerTrace) => ({
  message_id: t.messageId,
  chat_id: t.chatId,
  bot_id: t.botId,
  status: t.status,
  question: t.question,
  rewrite: t.rewrite,
  settings: {
    provider: t.settings.provider,
    model: t.settings.model,
    top_k: t.settings.topK,
    score_threshold: t.settings.scoreThreshold,
    tags: t.settings.tags,
    candidates_per_retriever: t.settings.candidatesPerRetriever,
    context_budget_tokens: t.settings.contextBudgetTokens,
  },
  candidates: t.candidates.map((c) => ({
    chunk_id: c.chunkId,
    source_id: c.sourceId,
    title: c.title,
    snippet: c.snippet,
    lexical: c.lexical,
    dense: c.dense,
    fused: c.fused,
    kept: c.passage !== null,
    passage: c.passage,
    dropped: c.dropped,
  })),
  context: {
    tokens: t.context.tokens,
    passages: t.context.passages.map((p) => ({
      n: p.n,
      source_id: p.sourceId,
      title: p.title,
      chunk_ids: p.chunkIds,
      tokens: p.tokens,
    })),
  },
  citations: t.citations,
  timings: t.timings.map((s) => ({ stage: s.stage, start_ms: s.startMs, ms: s.ms })),
  total_ms: t.totalMs,
  usage: t.usage.map((u) => ({
    kind: u.kind,
    provider: u.provider,
    model: u.model,
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
  })),
  created_at: iso(t.createdAt)!,
});

const FeedbackBody = z
  .object({ rating: z.enum(FEEDBACK_RATINGS), comment: text(2000).optional() })
  .openapi('AnswerFeedbackInput');

const FeedbackSchema = z
  .object({
    message_id: z.string(),
    chat_id: z.string(),
    bot_id: z.string(),
    rating: z.enum(FEEDBACK_RATINGS),
    comment: z.string().nullable(),
    updated_at: z.string(),
  })
  .openapi('AnswerFeedback');

export const feedbackJson = (f: MessageFeedback) => ({
  message_id: f.messageId,
  chat_id: f.chatId,
  bot_id: f.botId,
  rating: f.rating,
  comment: f.comment,
  updated_at: iso(f.updatedAt)!,
});

/**
 * An answer's trace and its feedback, under the chat it belongs to: added to the chats sub-app, whose
 * authentication they share.
 */
export function addAnswerTraceRoutes(app: ReturnType<typeof createRouter>, p: Platform): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/{chat_id}/messages/{message_id}/trace',
      summary: 'Why an answer says what it says: rewrite, candidates and their ranks, context, timings',
      security: requires('read'),
      request: { params: MessageParams },
      responses: { 200: json(TraceSchema, 'The answer trace'), ...standardErrors },
    }),
    async (c) => {
      const { chat_id, message_id } = c.req.valid('param');
      return c.json(traceJson(await getAnswerTrace(c.get('auth'), chat_id, message_id, p)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{chat_id}/messages/{message_id}/feedback',
      summary: 'Rate an answer up or down, with an optional comment (rating again replaces it)',
      security: requires('chat'),
      request: { params: MessageParams, body: jsonBody(FeedbackBody) },
      responses: { 200: json(FeedbackSchema, 'The feedback as stored'), ...standardErrors },
    }),
    async (c) => {
      const { chat_id, message_id } = c.req.valid('param');
      const body = c.req.valid('json');
      return c.json(feedbackJson(await rateAnswer(c.get('auth'), chat_id, message_id, body, p)), 200);
    },
  );
}
