import { createRoute, z } from '@hono/zod-openapi';
import { chatModelFactory, type ProviderEndpoints } from '../composition/chat-model.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Platform } from '../platform.ts';
import { type AnswerDeps, prepareAnswer } from '../usecases/answering/answer-question.ts';
import { answerEventJson, citationJson, collectAnswer } from './answer-json.ts';
import { tenantAuth } from './auth.ts';
import { openAiChunks, openAiCompletion } from './openai-format.ts';
import { createRouter } from './router.ts';
import { IdParam, jsonBody, security, standardErrors, text } from './schemas.ts';
import { primed, sseResponse } from './sse.ts';

const CitationSchema = z
  .object({
    n: z.number(),
    source_id: z.string(),
    title: z.string(),
    chunk_ids: z.array(z.string()),
    start_offset: z.number(),
    end_offset: z.number(),
    snippet: z.string(),
  })
  .openapi('Citation');

const AskBody = z
  .object({ content: text(20_000).min(1), stream: z.boolean().default(false) })
  .openapi('AskQuestion');

const AnswerSchema = z
  .object({
    message_id: z.string(),
    content: z.string(),
    citations: z.array(CitationSchema),
    usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), cost_usd: z.number() }),
  })
  .openapi('Answer');

const CompletionBody = z
  .object({
    model: z.uuid({ message: 'must be the id of one of your bots' }),
    messages: z
      .array(z.object({ role: z.enum(['system', 'user', 'assistant', 'developer']), content: text(50_000) }))
      .min(1),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
  })
  .passthrough()
  .openapi('ChatCompletionRequest');

export function answerDeps(p: Platform, endpoints?: ProviderEndpoints): AnswerDeps {
  return {
    db: p.db,
    embedder: p.embedder,
    vectorStore: p.vectorStore,
    vault: p.vault,
    logger: p.logger,
    chatModelFor: chatModelFactory(
      p.providerKeys,
      endpoints ?? {
        openaiBaseUrl: p.config.OPENAI_BASE_URL,
        anthropicBaseUrl: p.config.ANTHROPIC_BASE_URL,
      },
    ),
  };
}

/**
 * Asking questions: our own message route and the OpenAI-compatible one. Mounted by the chat-stream app
 * (streaming: SSE) and by the API app (`streaming: false`: API Gateway buffers responses, so the same
 * routes answer JSON there whatever `stream` says).
 */
export function answerRoutes(p: Platform, options: { streaming: boolean }) {
  const app = createRouter();
  const deps = answerDeps(p);
  // Scoped paths, not '*': this sub-app is mounted at /v1 beside the other resources.
  const auth = tenantAuth({ db: p.db, ...p.secrets });
  app.use('/chats/*', auth);
  app.use('/chat/*', auth);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/chats/{id}/messages',
      summary:
        'Ask a question in a chat; with stream: true (chat-stream URL) the answer is Server-Sent Events',
      description:
        'SSE events: `meta` (message id), `citations`, `delta` (text), `usage`, `done`, or `error` after the first byte.',
      security,
      request: { params: IdParam, body: jsonBody(AskBody) },
      responses: {
        200: {
          description: 'The answer (JSON), or a text/event-stream when stream is true',
          content: {
            'application/json': { schema: AnswerSchema },
            'text/event-stream': { schema: z.string() },
          },
        },
        ...standardErrors,
        502: standardErrors[400],
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const controller = new AbortController();
      const answer = await prepareAnswer(
        c.get('auth'),
        { chatId: c.req.valid('param').id },
        body.content,
        deps,
        controller.signal,
      );
      if (body.stream && options.streaming) {
        const events = await primed(answer.events(controller.signal));
        return sseResponse(
          c,
          async function* () {
            for await (const event of events) {
              yield { event: event.type, data: JSON.stringify(answerEventJson(event)) };
            }
          },
          p.logger,
          controller,
        );
      }
      const result = await collectAnswer(answer.events());
      return c.json(
        {
          message_id: answer.messageId,
          content: result.text,
          citations: result.citations.map(citationJson),
          usage: {
            input_tokens: result.usage.inputTokens,
            output_tokens: result.usage.outputTokens,
            cost_usd: result.usage.costUsd,
          },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/chat/completions',
      summary:
        'OpenAI-compatible chat completions: `model` is a bot id; citations in an extra `citations` field',
      security,
      request: { body: jsonBody(CompletionBody) },
      responses: {
        200: {
          description: 'An OpenAI chat.completion object, or chat.completion.chunk SSE when stream is true',
          content: {
            'application/json': { schema: z.record(z.string(), z.unknown()) },
            'text/event-stream': { schema: z.string() },
          },
        },
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const turns = body.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
      const last = turns[turns.length - 1];
      if (last?.role !== 'user') throw new ValidationError('The last message must come from the user.');
      const history = turns
        .slice(0, -1)
        .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
      const controller = new AbortController();
      const answer = await prepareAnswer(
        c.get('auth'),
        { botId: body.model, history },
        last.content,
        deps,
        controller.signal,
      );
      if (body.stream && options.streaming) {
        const includeUsage = body.stream_options?.include_usage ?? false;
        const frames = await primed(openAiChunks(answer, body.model, includeUsage, controller.signal));
        return sseResponse(c, () => frames, p.logger, controller);
      }
      return c.json(
        openAiCompletion(answer.messageId, body.model, await collectAnswer(answer.events())),
        200,
      );
    },
  );
  return app;
}
