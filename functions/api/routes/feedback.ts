import { createRoute, z } from '@hono/zod-openapi';
import { FEEDBACK_RATINGS } from '#shared/domain/answer-trace.ts';
import { citationJson } from '#shared/http/answer-json.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter } from '#shared/http/router.ts';
import { iso, json, listOf, PageQuery, requires, standardErrors } from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { listFeedback } from '#shared/usecases/answer-insight.ts';

const RatedAnswerSchema = z
  .object({
    message_id: z.string(),
    chat_id: z.string(),
    bot_id: z.string(),
    rating: z.enum(FEEDBACK_RATINGS),
    comment: z.string().nullable(),
    question: z.string(),
    query: z.string().nullable(),
    answer: z.string(),
    citations: z.array(z.record(z.string(), z.unknown())),
    passages: z.array(
      z.object({
        n: z.number(),
        chunk_id: z.string(),
        source_id: z.string(),
        title: z.string(),
        text: z.string(),
        current: z.boolean(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('RatedAnswer');

/** Rated answers for review, and the input of `minirag feedback export`. */
export function feedbackRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: 'Rated answers with their question and the passages they cited (oldest rating first)',
      security: requires('read'),
      request: {
        query: PageQuery.extend({
          bot_id: z
            .uuid()
            .optional()
            .openapi({ param: { name: 'bot_id', in: 'query' } }),
          rating: z
            .enum(FEEDBACK_RATINGS)
            .optional()
            .openapi({ param: { name: 'rating', in: 'query' } }),
        }),
      },
      responses: { 200: json(listOf(RatedAnswerSchema), 'A page of rated answers'), ...standardErrors },
    }),
    async (c) => {
      const { bot_id, rating, ...page } = c.req.valid('query');
      const result = await listFeedback(c.get('auth'), { botId: bot_id, rating }, page, p);
      return c.json(
        {
          data: result.data.map((r) => ({
            message_id: r.messageId,
            chat_id: r.chatId,
            bot_id: r.botId,
            rating: r.rating,
            comment: r.comment,
            question: r.question,
            query: r.query,
            answer: r.answer,
            citations: r.citations.map(citationJson),
            passages: r.passages.map((x) => ({
              n: x.n,
              chunk_id: x.chunkId,
              source_id: x.sourceId,
              title: x.title,
              text: x.text,
              current: x.current,
            })),
            created_at: iso(r.createdAt)!,
            updated_at: iso(r.updatedAt)!,
          })),
          next_cursor: result.nextCursor,
        },
        200,
      );
    },
  );
  return app;
}
