import { createRoute, z } from '@hono/zod-openapi';
import { USAGE_GROUPINGS, USAGE_KINDS } from '#shared/domain/usage.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter } from '#shared/http/router.ts';
import { json, requires, standardErrors } from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { tenantUsage } from '#shared/usecases/usage.ts';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).or(z.iso.date());

const UsageQuery = z.object({
  from: instant.optional().openapi({ param: { name: 'from', in: 'query' } }),
  to: instant.optional().openapi({ param: { name: 'to', in: 'query' } }),
  group_by: z
    .enum(USAGE_GROUPINGS)
    .default('day')
    .openapi({ param: { name: 'group_by', in: 'query' } }),
});

const UsageSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    group_by: z.enum(USAGE_GROUPINGS),
    data: z.array(
      z.object({
        key: z.string().nullable(),
        kind: z.enum(USAGE_KINDS),
        input_tokens: z.number(),
        output_tokens: z.number(),
        cost_usd: z.number(),
        events: z.number(),
      }),
    ),
    feedback: z
      .array(
        z.object({
          bot_id: z.string(),
          up: z.number(),
          down: z.number(),
          with_comment: z.number(),
        }),
      )
      .openapi({ description: 'Answer ratings per bot, for ratings given within the range' }),
  })
  .openapi('Usage');

export function usageRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary:
        "The tenant's token usage and cost, grouped by day, bot, model or publishable key (default: the last 30 days), and answer ratings per bot",
      security: requires('read'),
      request: { query: UsageQuery },
      responses: { 200: json(UsageSchema, 'Usage rows'), ...standardErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const result = await tenantUsage(
        c.get('auth'),
        {
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
          groupBy: q.group_by,
        },
        p,
      );
      return c.json(
        {
          from: result.from.toISOString(),
          to: result.to.toISOString(),
          group_by: q.group_by,
          data: result.rows.map((r) => ({
            key: r.key,
            kind: r.kind,
            input_tokens: r.inputTokens,
            output_tokens: r.outputTokens,
            cost_usd: r.costUsd,
            events: r.events,
          })),
          feedback: result.feedback.map((f) => ({
            bot_id: f.botId,
            up: f.up,
            down: f.down,
            with_comment: f.withComment,
          })),
        },
        200,
      );
    },
  );
  return app;
}
