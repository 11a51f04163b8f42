import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bedrockClientsFor } from '../composition/bedrock.ts';
import { chatModelFactory, type ProviderEndpoints } from '../composition/chat-model.ts';
import { rerankerFactory } from '../composition/reranker.ts';
import { tracedChatModel } from '../composition/traced.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Platform } from '../platform.ts';
import type { Logger } from '../ports/logger.ts';
import { type Metrics, noMetrics } from '../ports/telemetry.ts';
import type { AnswerEvent } from '../usecases/answering/answer-events.ts';
import type {
  AnswerDeps,
  AnswerTarget,
  prepareAnswer as PrepareAnswer,
  PreparedAnswer,
} from '../usecases/answering/answer-question.ts';
import { noTrace, recordAnswerTrace } from '../usecases/answering/trace-recorder.ts';
import { answerEventJson, citationJson, collectAnswer } from './answer-json.ts';
import { measureAnswer } from './answer-metrics.ts';
import { tenantAuth } from './auth.ts';
import type { AppEnv } from './env.ts';
import { openAiChunks, openAiCompletion } from './openai-format.ts';
import { openAiResponse, openAiResponseEvents } from './openai-responses.ts';
import { childLogger, loggerOf } from './request-logger.ts';
import { createRouter } from './router.ts';
import { IdParam, jsonBody, requires, standardErrors, text } from './schemas.ts';
import { primed, type SseFrame, sseResponse } from './sse.ts';

export const CitationSchema = z
  .object({
    n: z.number(),
    source_id: z.string(),
    title: z.string(),
    url: z.string().nullable(),
    chunk_ids: z.array(z.string()),
    start_offset: z.number(),
    end_offset: z.number(),
    snippet: z.string(),
  })
  .openapi('Citation');

/** The longest question, or message of an OpenAI-style conversation, in characters. */
const MAX_MESSAGE_CHARS = 20_000;
/**
 * Messages an OpenAI-style request may carry: clients resend the whole conversation, but only its last
 * turns reach the model, so more is only memory and parsing spent.
 */
const MAX_COMPLETION_MESSAGES = 100;

export const AskBody = z
  .object({ content: text(MAX_MESSAGE_CHARS).min(1), stream: z.boolean().default(false) })
  .openapi('AskQuestion');

export const AnswerSchema = z
  .object({
    message_id: z.string(),
    content: z.string(),
    citations: z.array(CitationSchema),
    usage: z.object({
      input_tokens: z.number(),
      output_tokens: z.number(),
      cost_usd: z.number(),
      provider: z.string().openapi({ description: "'extractive' when no language model wrote the answer" }),
      model: z.string(),
    }),
  })
  .openapi('Answer');

const CompletionBody = z
  .object({
    model: z.uuid({ message: 'must be the id of one of your bots' }),
    messages: z
      .array(
        z.object({
          role: z.enum(['system', 'user', 'assistant', 'developer']),
          content: text(MAX_MESSAGE_CHARS),
        }),
      )
      .min(1)
      .max(MAX_COMPLETION_MESSAGES),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
  })
  .passthrough()
  .openapi('ChatCompletionRequest');

/** A Responses API input message: content as text or as text parts. */
const InputMessage = z
  .object({
    type: z.literal('message').optional(),
    role: z.enum(['system', 'user', 'assistant', 'developer']),
    content: z.union([
      text(50_000),
      z.array(z.object({ type: z.enum(['input_text', 'output_text']), text: text(50_000) }).passthrough()),
    ]),
  })
  .passthrough();

const ResponsesBody = z
  .object({
    model: z.uuid({ message: 'must be the id of one of your bots' }),
    input: z.union([text(50_000).min(1), z.array(InputMessage).min(1)]),
    stream: z.boolean().default(false),
  })
  .passthrough()
  .openapi('ResponsesRequest');

type Turn = { role: 'system' | 'user' | 'assistant' | 'developer'; content: string };

/**
 * The question (the last turn, from the user) and the conversation before it. System and developer
 * turns are left out: the bot's own system prompt governs its answers.
 */
function questionAndHistory(messages: readonly Turn[]) {
  const turns = messages.filter((m) => m.role === 'user' || m.role === 'assistant');
  const last = turns[turns.length - 1];
  if (last?.role !== 'user') throw new ValidationError('The last message must come from the user.');
  const history = turns
    .slice(0, -1)
    .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
  return { question: last.content, history };
}

const inputTurns = (input: z.infer<typeof ResponsesBody>['input']): Turn[] =>
  typeof input === 'string'
    ? [{ role: 'user', content: input }]
    : input.map((m) => ({
        role: m.role,
        content: typeof m.content === 'string' ? m.content : m.content.map((part) => part.text).join(''),
      }));

/**
 * The answering use case, loaded by the first question rather than at start: it brings the tokenizer (and,
 * through the chat-model composition, the provider SDKs), which requests that only manage resources never need.
 */
const loadAnswering = (): Promise<{ prepareAnswer: typeof PrepareAnswer }> =>
  import('../usecases/answering/answer-question.ts');

/**
 * Prepares an answer (counting a failure by kind) and returns its events, measured. Traced when the
 * request carries a recorder; from here on every log line also names the answer.
 */
async function startAnswer(
  c: Context<AppEnv>,
  auth: AuthContext,
  target: AnswerTarget,
  question: string,
  deps: AnswerDeps,
  controller: AbortController,
  metrics: Metrics,
) {
  const measure = measureAnswer(metrics, c.get('receivedAt'));
  const logger = loggerOf(c, deps.logger);
  try {
    const trace = c.get('answerTrace') ?? noTrace;
    // Timed: on a process's first question the import is part of what the reader waits for.
    const { prepareAnswer } = await trace.time('load', loadAnswering);
    const answer = await prepareAnswer(auth, target, question, { ...deps, logger }, controller.signal, trace);
    c.set('logger', childLogger(logger, { messageId: answer.messageId }));
    return {
      answer,
      events: (signal?: AbortSignal) => measure.events(answer.events(signal), answer.retrieved),
    };
  } catch (error) {
    measure.failed(error);
    throw error;
  }
}

export function answerDeps(p: Platform, endpoints?: ProviderEndpoints): AnswerDeps {
  const chatModelFor = chatModelFactory(
    p.providerKeys,
    endpoints ?? {
      openaiBaseUrl: p.config.OPENAI_BASE_URL,
      anthropicBaseUrl: p.config.ANTHROPIC_BASE_URL,
      bedrock: bedrockClientsFor(p.config),
    },
    { allowLoopback: p.config.ALLOW_LOCAL_PROVIDER_URLS },
  );
  const tracing = p.tracing;
  return {
    db: p.db,
    embedder: p.embedder,
    vectorStore: p.vectorStore,
    vault: p.vault,
    logger: p.logger,
    chatModelFor: tracing
      ? async (bot, credentials) => tracedChatModel(await chatModelFor(bot, credentials), tracing)
      : chatModelFor,
    rerankerFor: rerankerFactory(p.config, p.providerKeys.cohere),
  };
}

export interface AnswerTiming {
  readonly firstEventGraceMs: number;
  readonly keepAliveMs: number;
}

/**
 * Answers a question asked in a stored chat: Server-Sent Events when the caller asked for a stream and this
 * app can stream, else JSON. Shared by the members' route and the website visitors' one.
 */
export async function answerInChat(
  c: Context<AppEnv>,
  auth: AuthContext,
  chatId: string,
  body: { content: string; stream: boolean },
  deps: AnswerDeps,
  timing: AnswerTiming,
  options: { streaming: boolean; logger: Logger; withUsage?: boolean; metrics?: Metrics },
): Promise<Response> {
  // Website visitors are not shown what their answers cost the tenant.
  const withUsage = options.withUsage ?? true;
  const controller = new AbortController();
  const { answer, events } = await startAnswer(
    c,
    auth,
    { chatId },
    body.content,
    { ...deps, logger: options.logger },
    controller,
    options.metrics ?? noMetrics,
  );
  if (body.stream && options.streaming) {
    const { items } = await primed(events(controller.signal), timing.firstEventGraceMs);
    return sseResponse(
      c,
      async function* () {
        // `meta` is known before the provider answers: it goes out at once, also when the grace
        // period ran out before the provider's first event.
        yield { event: 'meta', data: JSON.stringify(answerEventJson(answer.meta)) };
        for await (const event of items) {
          if (event.type === 'meta' || (event.type === 'usage' && !withUsage)) continue;
          yield { event: event.type, data: JSON.stringify(answerEventJson(event)) };
        }
      },
      loggerOf(c, options.logger),
      timing,
      controller,
    );
  }
  const result = await collectAnswer(events());
  return c.json(
    {
      message_id: answer.messageId,
      content: result.text,
      citations: result.citations.map(citationJson),
      ...(withUsage
        ? {
            usage: {
              input_tokens: result.usage.inputTokens,
              output_tokens: result.usage.outputTokens,
              cost_usd: result.usage.costUsd,
              provider: result.usage.provider,
              model: result.usage.model,
            },
          }
        : {}),
    },
    200,
  );
}

/**
 * Asking questions: our own message route and the OpenAI-compatible one. Mounted by the chat-stream app
 * (streaming: SSE) and by the API app (`streaming: false`: API Gateway buffers responses, so the same
 * routes answer JSON there whatever `stream` says).
 */
/**
 * Authenticates an answer route (with `authenticate`) and measures the answer from the request's arrival,
 * authentication included; in a chat (`traced`) it also records the answer's trace when traces are on.
 * Shared by the members' routes and the website visitors' routes.
 */
export function answerArrival(
  p: Platform,
  authenticate: MiddlewareHandler<AppEnv>,
  traced: boolean,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const receivedAt = performance.now();
    c.set('receivedAt', receivedAt);
    if (!traced || !p.config.ANSWER_TRACES || c.req.method !== 'POST') return authenticate(c, next);
    const trace = recordAnswerTrace(receivedAt);
    c.set('answerTrace', trace);
    await authenticate(c, () => {
      trace.span('auth', receivedAt, trace.now());
      return next();
    });
  };
}

export function answerRoutes(p: Platform, options: { streaming: boolean }) {
  const app = createRouter();
  const deps = answerDeps(p);
  const timing = {
    firstEventGraceMs: p.config.CHAT_FIRST_EVENT_GRACE_MS,
    keepAliveMs: p.config.SSE_KEEPALIVE_MS,
  };
  // Scoped paths, not '*': this sub-app is mounted at /v1 beside the other resources.
  const auth = tenantAuth({ db: p.db, ...p.secrets });
  app.use('/chats/*', answerArrival(p, auth, true));
  app.use('/chat/*', answerArrival(p, auth, false));
  app.use('/responses', answerArrival(p, auth, false));
  const metrics = p.metrics ?? noMetrics;

  /**
   * The OpenAI-compatible routes: `model` names the bot, the caller's last turn is the question, and the
   * answer goes out in that API's own shape, as JSON or as its stream.
   */
  async function compatibleAnswer(
    c: Context<AppEnv>,
    request: { model: string; turns: readonly Turn[]; stream: boolean },
    format: {
      frames: (answer: PreparedAnswer, events: AsyncIterable<AnswerEvent>) => AsyncIterable<SseFrame>;
      json: (result: Awaited<ReturnType<typeof collectAnswer>>) => object;
    },
  ): Promise<Response> {
    const { question, history } = questionAndHistory(request.turns);
    const controller = new AbortController();
    const logger = loggerOf(c, p.logger);
    const { answer, events } = await startAnswer(
      c,
      c.get('auth'),
      { botId: request.model, history },
      question,
      { ...deps, logger },
      controller,
      metrics,
    );
    if (request.stream && options.streaming) {
      const { items } = await primed(events(controller.signal), timing.firstEventGraceMs);
      return sseResponse(c, () => format.frames(answer, items), logger, timing, controller);
    }
    return c.json(format.json(await collectAnswer(events())), 200);
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/chats/{id}/messages',
      summary:
        'Ask a question in a chat; with stream: true (chat-stream URL) the answer is Server-Sent Events',
      description:
        'SSE events: `meta` (message id), `citations`, `delta` (text), `usage`, `done`, or `error` after the first byte.',
      security: requires('chat'),
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
    async (c) =>
      answerInChat(c, c.get('auth'), c.req.valid('param').id, c.req.valid('json'), deps, timing, {
        streaming: options.streaming,
        logger: loggerOf(c, p.logger),
        metrics,
      }),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/chat/completions',
      summary:
        'OpenAI-compatible chat completions: `model` is a bot id; citations in an extra `citations` field',
      security: requires('chat'),
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
      const includeUsage = body.stream_options?.include_usage ?? false;
      return compatibleAnswer(
        c,
        { model: body.model, turns: body.messages, stream: body.stream },
        {
          frames: (answer, items) => openAiChunks(answer, items, body.model, includeUsage),
          json: (result) => openAiCompletion(result.messageId, body.model, result),
        },
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/responses',
      summary:
        'OpenAI Responses API (subset): `model` is a bot id, `input` text or messages; citations as url_citation annotations',
      security: requires('chat'),
      request: { body: jsonBody(ResponsesBody) },
      responses: {
        200: {
          description: 'An OpenAI response object, or Responses stream events when stream is true',
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
      return compatibleAnswer(
        c,
        { model: body.model, turns: inputTurns(body.input), stream: body.stream },
        {
          frames: (answer, items) => openAiResponseEvents(answer, items, body.model),
          json: (result) => openAiResponse(body.model, result),
        },
      );
    },
  );
  return app;
}
