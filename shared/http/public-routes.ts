import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Platform } from '../platform.ts';
import {
  authenticateVisitor,
  createVisitorChat,
  getVisitorChat,
  startVisitorSession,
  type VisitorDeps,
} from '../usecases/visitors.ts';
import { citationJson } from './answer-json.ts';
import {
  AnswerSchema,
  AskBody,
  answerArrival,
  answerDeps,
  answerInChat,
  CitationSchema,
} from './answer-routes.ts';
import type { AppEnv } from './env.ts';
import { publicCors } from './public-cors.ts';
import { createRouter } from './router.ts';
import { IdParam, iso, json, jsonBody, requires, standardErrors, text } from './schemas.ts';

const bearerOf = (header: string | undefined) => header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];

/** Visitor routes: the visitor token becomes `c.var.auth`, and the checked origin is the one CORS names. */
function visitorAuth(deps: VisitorDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    c.set('auth', await authenticateVisitor(bearerOf(c.req.header('authorization')), origin, deps));
    if (origin) c.set('publicOrigin', origin);
    await next();
  };
}

const SessionSchema = z
  .object({
    token: z.string(),
    expires_at: z.string(),
    visitor_id: z.string(),
    bot: z.object({ id: z.string(), name: z.string() }),
  })
  .openapi('VisitorSession');

const PublicChatSchema = z
  .object({ id: z.string(), title: z.string().nullable(), created_at: z.string() })
  .openapi('VisitorChat');

const PublicMessageSchema = z
  .object({
    id: z.string(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    citations: z.array(CitationSchema),
    status: z.string(),
    created_at: z.string(),
  })
  .openapi('VisitorMessage');

const CreateVisitorChat = z.object({ title: text(200).optional() }).openapi('CreateVisitorChat');

const publicErrors = { ...standardErrors, 401: standardErrors[401], 403: standardErrors[403] } as const;

/**
 * The website routes (/v1/public): a publishable key starts a visitor session; the visitor token then
 * starts chats and asks in them. Mounted by the chat-stream app (answers stream as SSE) and by the API app
 * (JSON). CORS here is per key (see publicCors), never the deployment's CORS_ORIGINS.
 */
export function publicRoutes(p: Platform, options: { streaming: boolean }) {
  const app = createRouter();
  const visitorDeps: VisitorDeps = {
    db: p.db,
    jwtSigningKey: p.secrets.jwtSigningKey,
    visitorTokenTtlSeconds: p.config.VISITOR_TOKEN_TTL_SECONDS,
  };
  const deps = answerDeps(p);
  const timing = {
    firstEventGraceMs: p.config.CHAT_FIRST_EVENT_GRACE_MS,
    keepAliveMs: p.config.SSE_KEEPALIVE_MS,
  };
  app.use('/public/*', publicCors(p));
  app.use('/public/chats', visitorAuth(visitorDeps));
  // A visitor's answer is measured and traced like a member's: the tenant's members can read its trace.
  app.use('/public/chats/*', answerArrival(p, visitorAuth(visitorDeps), true));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/public/sessions',
      summary: "Start a website visitor's session with a publishable key (Authorization: Bearer mrag_pk_…)",
      description:
        "Needs an `Origin` among the key's allowed origins. The visitor token is short-lived and lets its holder chat with the key's bot only, in chats it started.",
      security: requires('publishable-key'),
      responses: { 201: json(SessionSchema, 'A visitor token'), ...publicErrors },
    }),
    async (c) => {
      const origin = c.req.header('origin');
      const key = bearerOf(c.req.header('authorization')) ?? c.req.query('key');
      const session = await startVisitorSession(key, origin, visitorDeps);
      if (origin) c.set('publicOrigin', origin);
      return c.json(
        {
          token: session.token,
          expires_at: iso(session.expiresAt)!,
          visitor_id: session.visitorId,
          bot: session.bot,
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/public/chats',
      summary: "Start a chat with the visitor token's bot",
      security: requires('visitor'),
      request: { body: jsonBody(CreateVisitorChat) },
      responses: { 201: json(PublicChatSchema, 'The chat'), ...publicErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const chat = await createVisitorChat(c.get('auth'), { title: body.title }, p);
      return c.json({ id: chat.id, title: chat.title, created_at: iso(chat.createdAt)! }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/public/chats/{id}',
      summary: "One of the visitor's own chats with its messages (another chat id answers 404)",
      security: requires('visitor'),
      request: { params: IdParam },
      responses: {
        200: json(PublicChatSchema.extend({ messages: z.array(PublicMessageSchema) }), 'The chat'),
        ...publicErrors,
      },
    }),
    async (c) => {
      const { chat, messages } = await getVisitorChat(c.get('auth'), c.req.valid('param').id, p);
      return c.json(
        {
          id: chat.id,
          title: chat.title,
          created_at: iso(chat.createdAt)!,
          messages: messages.map((m) => ({
            id: m.id,
            role: m.role,
            content: m.content,
            citations: m.citations.map(citationJson),
            status: m.status,
            created_at: iso(m.createdAt)!,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/public/chats/{id}/messages',
      summary: "Ask in one of the visitor's chats; with stream: true (chat-stream URL) the answer is SSE",
      description:
        'The same events as POST /v1/chats/{id}/messages except `usage`. Rate limits per visitor and per key, and the key’s and the tenant’s budgets, are checked before any provider call (429 with Retry-After).',
      security: requires('visitor'),
      request: { params: IdParam, body: jsonBody(AskBody) },
      responses: {
        200: {
          description: 'The answer (JSON), or a text/event-stream when stream is true',
          content: {
            'application/json': { schema: AnswerSchema.omit({ usage: true }) },
            'text/event-stream': { schema: z.string() },
          },
        },
        ...publicErrors,
        502: standardErrors[400],
      },
    }),
    (c) =>
      answerInChat(c, c.get('auth'), c.req.valid('param').id, c.req.valid('json'), deps, timing, {
        streaming: options.streaming,
        logger: p.logger,
        withUsage: false,
        metrics: p.metrics,
      }),
  );
  return app;
}
