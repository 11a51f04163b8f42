import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { PublishableKey } from '#shared/domain/publishable-key.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import type { AppEnv } from '#shared/http/env.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import {
  IdParam,
  iso,
  json,
  jsonBody,
  listOf,
  PageQuery,
  requires,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import {
  createPublishableKey,
  listBotPublishableKeys,
  revokeTenantPublishableKey,
} from '#shared/usecases/publishable-keys.ts';

const PublishableKeySchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    name: z.string().nullable(),
    prefix: z.string(),
    allowed_origins: z.array(z.string()),
    rate_limit: z.object({
      per_visitor_per_minute: z.number().nullable(),
      per_key_per_minute: z.number().nullable(),
    }),
    monthly_token_budget: z.number().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('PublishableKey');

const keyJson = (k: PublishableKey) => ({
  id: k.id,
  bot_id: k.botId,
  name: k.name,
  prefix: k.prefix,
  allowed_origins: k.allowedOrigins,
  rate_limit: { per_visitor_per_minute: k.perVisitorPerMinute, per_key_per_minute: k.perKeyPerMinute },
  monthly_token_budget: k.monthlyTokenBudget,
  revoked_at: iso(k.revokedAt),
  last_used_at: iso(k.lastUsedAt),
  created_at: iso(k.createdAt)!,
});

const perMinute = z.number().int().min(1).max(100_000);
const CreatePublishableKey = z
  .object({
    name: text(200).min(1).optional(),
    allowed_origins: z
      .array(text(300).min(1))
      .min(1, "give at least one origin, or '*' to allow any site")
      .max(50)
      .openapi({ example: ['https://help.example.com'] }),
    rate_limit: z
      .object({ per_visitor_per_minute: perMinute.optional(), per_key_per_minute: perMinute.optional() })
      .optional(),
    monthly_token_budget: z.number().int().min(0).max(2_000_000_000).optional(),
  })
  .openapi('CreatePublishableKey');

/** `/v1/bots/{id}/publishable-keys`: registered on the bots router, behind its tenant auth. */
export function botPublishableKeyRoutes(app: OpenAPIHono<AppEnv>, p: Platform): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/publishable-keys',
      summary: 'Create a publishable key that lets websites on the given origins chat with this bot',
      description:
        "Not a secret: it goes into the page. It grants only chatting with this one bot from `allowed_origins` (exact scheme, host and port; `'*'` alone allows any site and answers with a warning). The full key is returned here and in no listing.",
      security: requires('bots:write'),
      request: { params: IdParam, body: jsonBody(CreatePublishableKey) },
      responses: {
        201: json(
          PublishableKeySchema.extend({ key: z.string(), warnings: z.array(z.string()) }),
          'The key (`key` is shown only here)',
        ),
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { key, secret, warnings } = await createPublishableKey(
        c.get('auth'),
        c.req.valid('param').id,
        {
          name: body.name,
          allowedOrigins: body.allowed_origins,
          perVisitorPerMinute: body.rate_limit?.per_visitor_per_minute,
          perKeyPerMinute: body.rate_limit?.per_key_per_minute,
          monthlyTokenBudget: body.monthly_token_budget,
        },
        p,
      );
      return c.json({ ...keyJson(key), key: secret, warnings }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/publishable-keys',
      summary: "List the bot's publishable keys (revoked ones too)",
      security: requires('read'),
      request: { params: IdParam, query: PageQuery },
      responses: { 200: json(listOf(PublishableKeySchema), 'A page of keys'), ...standardErrors },
    }),
    async (c) => {
      const page = await listBotPublishableKeys(
        c.get('auth'),
        c.req.valid('param').id,
        c.req.valid('query'),
        p,
      );
      return c.json({ data: page.data.map(keyJson), next_cursor: page.nextCursor }, 200);
    },
  );
}

/** `/v1/publishable-keys/{id}`: revoking a key stops its visitors on their next request. */
export function publishableKeyRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));
  deleteByIdRoute(app, 'bots:write', 'Revoke a publishable key (effective on the next request)', (auth, id) =>
    revokeTenantPublishableKey(auth, id, p),
  );
  return app;
}
