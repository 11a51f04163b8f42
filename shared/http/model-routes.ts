import { createRoute, z } from '@hono/zod-openapi';
import type { BotProfile } from '../domain/bot.ts';
import type { Platform } from '../platform.ts';
import { getChatModel, listChatModels } from '../usecases/chat-models.ts';
import { tenantAuth } from './auth.ts';
import { createRouter } from './router.ts';
import { json, requires, standardErrors } from './schemas.ts';

const ModelSchema = z
  .object({
    id: z.string().openapi({ description: 'The bot id: what `model` names in a chat completion' }),
    object: z.literal('model'),
    created: z.number().int().openapi({ description: 'Unix seconds' }),
    owned_by: z.string(),
    name: z.string().openapi({ description: "The bot's name" }),
  })
  .openapi('Model');

/** A bot as an OpenAI model object; `name` is ours (OpenAI's has none), for tools that show one. */
const modelJson = (bot: BotProfile) => ({
  id: bot.id,
  object: 'model' as const,
  created: Math.floor(bot.createdAt.getTime() / 1000),
  owned_by: 'minirag',
  name: bot.name,
});

/**
 * OpenAI-compatible model discovery: the tenant's bots are its models. Mounted wherever the
 * OpenAI-compatible chat route is, so one `baseURL` serves both.
 */
export function modelRoutes(p: Platform) {
  const app = createRouter();
  app.use('/models', tenantAuth({ db: p.db, ...p.secrets }));
  app.use('/models/*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'get',
      path: '/models',
      summary: "OpenAI-compatible: the tenant's bots as models (a chat completion's `model` is a bot id)",
      security: requires('tenant'),
      responses: {
        200: json(z.object({ object: z.literal('list'), data: z.array(ModelSchema) }), 'Every bot'),
        ...standardErrors,
      },
    }),
    async (c) =>
      c.json({ object: 'list' as const, data: (await listChatModels(c.get('auth'), p)).map(modelJson) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/models/{id}',
      summary: 'OpenAI-compatible: one bot as a model',
      security: requires('tenant'),
      request: {
        params: z.object({
          id: z
            .string()
            .max(200)
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: { 200: json(ModelSchema, 'The bot as a model'), ...standardErrors },
    }),
    async (c) => c.json(modelJson(await getChatModel(c.get('auth'), c.req.valid('param').id, p)), 200),
  );
  return app;
}
