import { createRoute, z } from '@hono/zod-openapi';
import type { BotProfile } from '#shared/domain/bot.ts';
import { BOT_PROVIDERS, RERANK_PROVIDERS, type RerankSettings } from '#shared/domain/bot.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import {
  IdParam,
  iso,
  json,
  jsonBody,
  listOf,
  name,
  PageQuery,
  requires,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import {
  type BotInput,
  changeBot,
  createBot,
  getBot,
  listTenantBots,
  removeBot,
} from '#shared/usecases/bots.ts';
import { botPublishableKeyRoutes } from './publishable-keys.ts';

const Provider = z.enum(BOT_PROVIDERS);
const Rerank = z
  .object({
    provider: z.enum(RERANK_PROVIDERS),
    model: text(300).min(1),
    top_n: z.number().int().min(1).max(50).default(5),
  })
  .openapi('Rerank', {
    description:
      'Reorders the retrieved candidates with a rerank model before the context is assembled; the top_n best ' +
      'go on. Bedrock: amazon.rerank-v1:0 or cohere.rerank-v3-5:0 (id or ARN); Cohere: e.g. rerank-v3.5. ' +
      'null turns reranking off (the default).',
  });
const Retrieval = z.object({
  top_k: z.number().int().min(1).max(50).optional(),
  score_threshold: z.number().min(0).max(1).nullable().optional(),
  tags: z.array(text(100).min(1)).max(50).optional(),
  rerank: Rerank.nullable().optional(),
  query_expansion: z
    .boolean()
    .optional()
    .openapi({
      description:
        'Widens each question with the words of its best full-text matches (RM3 pseudo-relevance feedback) ' +
        'before the final full-text search: better recall when questions and documents use different words, ' +
        'at about three times the full-text search time. Off by default.',
    }),
});

const rerankJson = (r: RerankSettings | null | undefined) =>
  r ? { provider: r.provider, model: r.model, top_n: r.topN } : null;

const BotSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: Provider.nullable(),
    model: z.string().nullable(),
    base_url: z.string().nullable(),
    region: z.string().nullable(),
    temperature: z.number().nullable(),
    max_output_tokens: z.number().nullable(),
    max_input_tokens: z.number().nullable(),
    system_prompt: z.string().nullable(),
    retrieval: z.object({
      top_k: z.number(),
      score_threshold: z.number().nullable(),
      tags: z.array(z.string()),
      rerank: z
        .object({ provider: z.enum(RERANK_PROVIDERS), model: z.string(), top_n: z.number() })
        .nullable(),
      query_expansion: z.boolean(),
    }),
    credentials: z.object({ configured: z.boolean(), last4: z.string().nullable() }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Bot');

export const botJson = (b: BotProfile) => ({
  id: b.id,
  name: b.name,
  provider: b.provider,
  model: b.model,
  base_url: b.baseUrl,
  region: b.region,
  temperature: b.temperature,
  max_output_tokens: b.maxOutputTokens,
  max_input_tokens: b.maxInputTokens,
  system_prompt: b.systemPrompt,
  retrieval: {
    top_k: b.retrieval.topK,
    score_threshold: b.retrieval.scoreThreshold,
    tags: b.retrieval.tags,
    rerank: rerankJson(b.retrieval.rerank),
    query_expansion: b.retrieval.queryExpansion,
  },
  // Write-only: a read shows whether a key is set and its last four characters, never the key.
  credentials: { configured: b.hasCredentials, last4: b.credentialsLast4 ? `…${b.credentialsLast4}` : null },
  created_at: iso(b.createdAt)!,
  updated_at: iso(b.updatedAt)!,
});

const BotFieldsSchema = z.object({
  name: name.optional(),
  provider: Provider.nullable().optional(),
  model: text(200).min(1).nullable().optional(),
  base_url: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(500)
    .nullable()
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')
    .nullable()
    .optional()
    .openapi({
      description:
        "Bedrock only: the AWS region serving the model. Default: the deployment's Bedrock region.",
    }),
  temperature: z.number().min(0).max(2).nullable().optional(),
  max_output_tokens: z.number().int().min(1).max(32_000).nullable().optional(),
  max_input_tokens: z
    .number()
    .int()
    .min(500)
    .max(1_000_000)
    .nullable()
    .optional()
    .openapi({
      description:
        'The most input tokens (instructions, history, sources, question) one question may send the model; ' +
        'older history and lower-ranked sources are left out to fit. Default 16,000.',
    }),
  system_prompt: text(20_000).nullable().optional(),
  retrieval: Retrieval.optional(),
  credentials: z
    .object({
      api_key: text(500).min(8, 'looks too short for an API key'),
      organization: text(200).optional(),
    })
    .nullable()
    .optional()
    .openapi({
      description:
        'Write-only. Encrypted with a per-record data key; never returned. Not for the bedrock provider, ' +
        "which calls Amazon Bedrock with the deployment's own IAM identity.",
    }),
});
const CreateBot = BotFieldsSchema.extend({ name }).openapi('CreateBot');
const UpdateBot = BotFieldsSchema.openapi('UpdateBot');

function toInput(body: z.infer<typeof BotFieldsSchema>): BotInput {
  return {
    name: body.name,
    provider: body.provider,
    model: body.model,
    baseUrl: body.base_url,
    region: body.region,
    temperature: body.temperature,
    maxOutputTokens: body.max_output_tokens,
    maxInputTokens: body.max_input_tokens,
    systemPrompt: body.system_prompt,
    retrieval: body.retrieval && {
      topK: body.retrieval.top_k,
      scoreThreshold: body.retrieval.score_threshold,
      tags: body.retrieval.tags,
      queryExpansion: body.retrieval.query_expansion,
      rerank:
        body.retrieval.rerank === undefined || body.retrieval.rerank === null
          ? body.retrieval.rerank
          : {
              provider: body.retrieval.rerank.provider,
              model: body.retrieval.rerank.model,
              topN: body.retrieval.rerank.top_n,
            },
    },
    credentials:
      body.credentials === undefined || body.credentials === null
        ? body.credentials
        : { apiKey: body.credentials.api_key, organization: body.credentials.organization },
  };
}

export function botRoutes(p: Platform) {
  const app = createRouter();
  const deps = {
    db: p.db,
    vault: p.vault,
    allowLocalProviderUrls: p.config.ALLOW_LOCAL_PROVIDER_URLS,
    bedrockModels: p.config.BEDROCK_MODELS,
  };
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Create a bot profile (a bot without a provider answers extractively, with no LLM)',
      security: requires('bots:write'),
      request: { body: jsonBody(CreateBot) },
      responses: { 201: json(BotSchema, 'The bot'), ...standardErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(
        botJson(await createBot(c.get('auth'), { ...toInput(body), name: body.name }, deps)),
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's bots",
      security: requires('read'),
      request: { query: PageQuery },
      responses: { 200: json(listOf(BotSchema), 'A page of bots'), ...standardErrors },
    }),
    async (c) => {
      const page = await listTenantBots(c.get('auth'), c.req.valid('query'), deps);
      return c.json({ data: page.data.map(botJson), next_cursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      summary: 'Get a bot',
      security: requires('read'),
      request: { params: IdParam },
      responses: { 200: json(BotSchema, 'The bot'), ...standardErrors },
    }),
    async (c) => c.json(botJson(await getBot(c.get('auth'), c.req.valid('param').id, deps)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      summary: 'Change a bot (credentials: null removes them; switching provider drops the old key)',
      security: requires('bots:write'),
      request: { params: IdParam, body: jsonBody(UpdateBot) },
      responses: { 200: json(BotSchema, 'The bot'), ...standardErrors },
    }),
    async (c) =>
      c.json(
        botJson(await changeBot(c.get('auth'), c.req.valid('param').id, toInput(c.req.valid('json')), deps)),
        200,
      ),
  );

  deleteByIdRoute(app, 'bots:write', 'Delete a bot (and its chats)', (auth, id) => removeBot(auth, id, deps));
  botPublishableKeyRoutes(app, p);
  return app;
}
