import { createRoute, z } from '@hono/zod-openapi';
import type { Chat, Message } from '#shared/domain/chat.ts';
import { MESSAGE_ROLES, MESSAGE_STATUSES } from '#shared/domain/chat.ts';
import { citationJson } from '#shared/http/answer-json.ts';
import { tenantAuth } from '#shared/http/auth.ts';
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
import { createChat, getChatWithMessages, listTenantChats, removeChat } from '#shared/usecases/chats.ts';
import { addAnswerTraceRoutes } from './answer-traces.ts';

const ChatSchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    user_id: z.string().nullable(),
    title: z.string().nullable(),
    visitor: z
      .object({ visitor_id: z.string(), publishable_key_id: z.string().nullable() })
      .nullable()
      .openapi({ description: 'Set when a website visitor started the chat through a publishable key' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Chat');

const MessageSchema = z
  .object({
    id: z.string(),
    role: z.enum(MESSAGE_ROLES),
    content: z.string(),
    citations: z.array(z.record(z.string(), z.unknown())),
    status: z.enum(MESSAGE_STATUSES),
    input_tokens: z.number(),
    output_tokens: z.number(),
    created_at: z.string(),
  })
  .openapi('Message');

const chatJson = (c: Chat) => ({
  id: c.id,
  bot_id: c.botId,
  user_id: c.userId,
  title: c.title,
  visitor: c.visitorId ? { visitor_id: c.visitorId, publishable_key_id: c.publishableKeyId } : null,
  created_at: iso(c.createdAt)!,
  updated_at: iso(c.updatedAt)!,
});

const messageJson = (m: Message) => ({
  id: m.id,
  role: m.role,
  content: m.content,
  citations: m.citations.map(citationJson),
  status: m.status,
  input_tokens: m.inputTokens,
  output_tokens: m.outputTokens,
  created_at: iso(m.createdAt)!,
});

const CreateChat = z
  .object({ bot_id: z.uuid({ message: 'must be a bot id' }), title: text(200).optional() })
  .openapi('CreateChat');

/** Chat CRUD; asking a question (POST /v1/chats/{id}/messages) lives in the shared answer routes. */
export function chatRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Start a chat with a bot',
      security: requires('chat'),
      request: { body: jsonBody(CreateChat) },
      responses: { 201: json(ChatSchema, 'The chat'), ...standardErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(
        chatJson(await createChat(c.get('auth'), { botId: body.bot_id, title: body.title }, p)),
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's chats",
      security: requires('read'),
      request: { query: PageQuery.extend({ bot_id: z.uuid().optional() }) },
      responses: { 200: json(listOf(ChatSchema), 'A page of chats'), ...standardErrors },
    }),
    async (c) => {
      const { bot_id, ...page } = c.req.valid('query');
      const result = await listTenantChats(c.get('auth'), { botId: bot_id }, page, p);
      return c.json({ data: result.data.map(chatJson), next_cursor: result.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      summary: 'Get a chat with its messages',
      security: requires('read'),
      request: { params: IdParam },
      responses: {
        200: json(ChatSchema.extend({ messages: z.array(MessageSchema) }), 'The chat'),
        ...standardErrors,
      },
    }),
    async (c) => {
      const { chat, messages } = await getChatWithMessages(c.get('auth'), c.req.valid('param').id, p);
      return c.json({ ...chatJson(chat), messages: messages.map(messageJson) }, 200);
    },
  );

  addAnswerTraceRoutes(app, p);
  deleteByIdRoute(app, 'chat', 'Delete a chat and its messages', (auth, id) => removeChat(auth, id, p));
  return app;
}
