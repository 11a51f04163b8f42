import { costUsd } from '../../config/prices.ts';
import type { AuthContext } from '../../domain/auth-context.ts';
import type { BotProfile } from '../../domain/bot.ts';
import type { Citation, MessageStatus } from '../../domain/chat.ts';
import { newId } from '../../domain/ids.ts';
import type { UsageEvent } from '../../domain/usage.ts';
import type { ChatModel, ChatRequest } from '../../ports/chat-model.ts';
import type { Database } from '../../ports/database.ts';
import type { Logger } from '../../ports/logger.ts';
import { insertTrace } from '../../repositories/answer-traces.ts';
import { insertMessage } from '../../repositories/chats.ts';
import { recordUsage } from '../../repositories/usage.ts';
import type { AnswerEvent } from './answer-events.ts';
import { citedNumbers, renumberCitations, unknownCitations } from './citation-markers.ts';
import { settleReservation } from './quota.ts';
import { noTrace, type TraceRecorder } from './trace-recorder.ts';

export type PendingUsage = UsageEvent & { costUsd: number };

export interface StreamAnswerInput {
  readonly auth: AuthContext;
  readonly bot: BotProfile;
  readonly chatId: string | null;
  readonly messageId: string;
  readonly question: string;
  readonly query: string;
  readonly citations: Citation[];
  readonly usage: PendingUsage[];
  /** Given back in the transaction that records the real usage (see reserveQuota). */
  readonly reservationId: string | null;
  readonly model: ChatModel;
  readonly request: ChatRequest;
  readonly estimateTokens: (text: string) => number;
  readonly deps: { db: Database; logger: Logger };
  readonly signal?: AbortSignal | undefined;
  readonly trace?: TraceRecorder;
}

/**
 * Generation and bookkeeping: yields meta, citations, the deltas, usage and done. Once the provider has
 * started answering, whatever happens — completion, a provider error mid-stream, the client going away —
 * the question, the (possibly partial) answer and the usage are saved in one transaction before the
 * generator finishes.
 */
export async function* streamAnswer(input: StreamAnswerInput): AsyncGenerator<AnswerEvent> {
  const { bot, model } = input;
  const trace = input.trace ?? noTrace;
  const providerStart = trace.now();
  let firstToken = providerStart;
  const stream = model
    .stream({ ...input.request, ...(input.signal ? { signal: input.signal } : {}) })
    [Symbol.asyncIterator]();
  let answer = '';
  let citations = input.citations;
  let reported: { inputTokens: number; outputTokens: number } | undefined;
  let saved = false;
  let started = false;
  try {
    // The provider's first event comes before our first: a refused key or a rate limit is still an
    // ordinary HTTP problem, as long as the route pulls `meta` before it starts the response.
    let next = await stream.next();
    started = true;
    if (!next.done && next.value.type === 'sources') {
      citations = renumberCitations(input.citations, next.value.passages);
      next = await stream.next();
    }
    firstToken = trace.now();
    trace.span('first_token', providerStart, firstToken);
    yield {
      type: 'meta',
      messageId: input.messageId,
      chatId: input.chatId,
      botId: bot.id,
      query: input.query,
    };
    yield { type: 'citations', citations };
    for (; !next.done; next = await stream.next()) {
      const event = next.value;
      if (event.type === 'delta') {
        answer += event.text;
        yield { type: 'delta', text: event.text };
      } else if (event.type === 'usage') {
        reported = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
      }
    }
    trace.span('generation', firstToken, trace.now());
    saved = true;
    const usage = await save(input, citations, answer, 'complete', reported);
    yield { type: 'usage', ...usage, provider: model.provider, model: model.model };
    yield {
      type: 'done',
      messageId: input.messageId,
      status: 'complete',
      cited: citedNumbers(answer, citations.length),
    };
  } finally {
    // A provider error mid-stream, or a consumer that stopped iterating (client disconnect): close the
    // provider call and keep what exists.
    if (!saved) {
      await stream.return?.(undefined);
      if (started) trace.span('generation', firstToken, trace.now());
      if (started) await save(input, citations, answer, answer ? 'partial' : 'failed', reported);
      else await saveRefused(input);
    }
  }
}

/**
 * The provider refused before answering (bad key, rate limit): the caller gets an ordinary error, so
 * no question or answer is stored and no generation is billed — only the embedding and rewrite calls
 * that really happened are recorded.
 */
async function saveRefused(input: StreamAnswerInput): Promise<void> {
  if (input.usage.length === 0 && !input.reservationId) return;
  await input.deps.db.withTenant(input.auth.tenantId, async (tx) => {
    await settleReservation(tx, input.auth.tenantId, input.reservationId);
    for (const event of input.usage) {
      await recordUsage(tx, input.auth.tenantId, { ...event, ...attribution(input) });
    }
  });
}

/** What usage is attributed to: the bot and chat, and for a website visitor its key and visitor id. */
const attribution = (input: StreamAnswerInput) => ({
  botId: input.bot.id,
  chatId: input.chatId,
  publishableKeyId: input.auth.visitor?.publishableKeyId ?? null,
  visitorId: input.auth.visitor?.visitorId ?? null,
});

async function save(
  input: StreamAnswerInput,
  citations: readonly Citation[],
  answer: string,
  status: MessageStatus,
  reported: { inputTokens: number; outputTokens: number } | undefined,
): Promise<{ inputTokens: number; outputTokens: number; costUsd: number }> {
  const { auth, model } = input;
  // A broken stream reports no usage: estimate what was sent and received, so the bill is never zero.
  const tokens = reported ?? {
    inputTokens: input.estimateTokens(
      input.request.system + input.request.messages.map((m) => m.content).join('\n'),
    ),
    outputTokens: input.estimateTokens(answer),
  };
  const cost = costUsd(model.provider, model.model, tokens.inputTokens, tokens.outputTokens);
  const citedInOrder = citedNumbers(answer, citations.length);
  const cited = new Set(citedInOrder);
  const trace = input.trace ?? noTrace;
  const saveStart = trace.now();
  await input.deps.db.withTenant(auth.tenantId, async (tx) => {
    if (input.chatId) {
      await insertMessage(tx, auth.tenantId, {
        id: newId(),
        chatId: input.chatId,
        role: 'user',
        content: input.question,
        citations: [],
        status: 'complete',
        inputTokens: 0,
        outputTokens: 0,
      });
      await insertMessage(tx, auth.tenantId, {
        id: input.messageId,
        chatId: input.chatId,
        role: 'assistant',
        content: answer,
        citations: citations.filter((c) => cited.has(c.n)),
        status,
        inputTokens: tokens.inputTokens,
        outputTokens: tokens.outputTokens,
      });
    }
    for (const event of [
      ...input.usage,
      { kind: 'chat' as const, provider: model.provider, model: model.model, ...tokens, costUsd: cost },
    ]) {
      await recordUsage(tx, auth.tenantId, { ...event, ...attribution(input) });
    }
    await settleReservation(tx, auth.tenantId, input.reservationId);
    if (input.chatId && trace.enabled) {
      trace.span('save', saveStart, trace.now());
      const finished = trace.finish({
        messageId: input.messageId,
        chatId: input.chatId,
        botId: input.bot.id,
        question: input.question,
        status,
        cited: citedInOrder,
        unknownCitations: unknownCitations(answer, citations.length),
        usage: [
          ...input.usage,
          { kind: 'chat' as const, provider: model.provider, model: model.model, ...tokens },
        ].map((u) => ({
          kind: u.kind,
          provider: u.provider,
          model: u.model,
          inputTokens: u.inputTokens,
          outputTokens: u.outputTokens,
        })),
      });
      if (finished) await insertTrace(tx, auth.tenantId, finished);
    }
  });
  input.deps.logger.info('answer saved', {
    tenantId: auth.tenantId,
    chatId: input.chatId,
    messageId: input.messageId,
    status,
    outputTokens: tokens.outputTokens,
  });
  return { ...tokens, costUsd: cost };
}
