import { requireScope } from '../../auth/authorize.ts';
import { costUsd } from '../../config/prices.ts';
import type { AuthContext } from '../../domain/auth-context.ts';
import type { BotProfile, ProviderCredentials } from '../../domain/bot.ts';
import type { Chat, Citation } from '../../domain/chat.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { newId, type TenantId } from '../../domain/ids.ts';
import type { Visitor } from '../../domain/publishable-key.ts';
import type { ChatModel, ChatRequest, ChatTurn, ContextPassage } from '../../ports/chat-model.ts';
import type { Database } from '../../ports/database.ts';
import type { Embedder } from '../../ports/embedder.ts';
import type { KeyVault } from '../../ports/key-vault.ts';
import type { Logger } from '../../ports/logger.ts';
import type { VectorStore } from '../../ports/vector-store.ts';
import { countTokens } from '../../rag/tokenizer.ts';
import { findBot, findBotCredentials } from '../../repositories/bots.ts';
import { findChat, listMessages } from '../../repositories/chats.ts';
import { openBotCredentials } from '../bots.ts';
import type { AnswerEvent } from './answer-events.ts';
import { assembleContext } from './assemble-context.ts';
import { fitSources, type InputPlan, planInput } from './input-plan.ts';
import { answerRequest, botInstructions } from './prompt.ts';
import { reserveQuota, settleReservation } from './quota.ts';
import { type RerankerFor, rerankCandidates } from './rerank-candidates.ts';
import { EXPANDED_LEXICAL_SCORING, LEXICAL_SCORING, retrieveContext } from './retrieve-context.ts';
import { rewriteQuery } from './rewrite-query.ts';
import { type PendingUsage, streamAnswer } from './stream-answer.ts';
import { noTrace, type TraceRecorder } from './trace-recorder.ts';

export type { AnswerEvent, TraceRecorder };

/**
 * The ChatModel for one bot and one call. A bot without a provider answers extractively; the decrypted
 * credentials live only inside the model built here. Throws a ProviderError (400) when no key applies.
 */
export type ChatModelFor = (
  bot: BotProfile,
  credentials: ProviderCredentials | null,
) => ChatModel | Promise<ChatModel>;

export interface AnswerDeps {
  readonly db: Database;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly vault: KeyVault;
  readonly logger: Logger;
  /** Builds the model for one bot and one call; the composition root binds the platform's keys into it. */
  readonly chatModelFor: ChatModelFor;
  /** Builds the reranker a bot's `retrieval.rerank` names; absent: reranking is unavailable. */
  readonly rerankerFor?: RerankerFor | undefined;
  /** Tokens of retrieved context given to the model. */
  readonly contextBudgetTokens?: number;
  readonly now?: () => Date;
}

/** Where the question is asked: a stored chat, or an inline conversation (the OpenAI-compatible endpoint). */
export type AnswerTarget =
  | { readonly chatId: string }
  | { readonly botId: string; readonly history: readonly ChatTurn[] };

export interface PreparedAnswer {
  readonly messageId: string;
  /** The stream's first event, known before the provider answers. */
  readonly meta: Extract<AnswerEvent, { type: 'meta' }>;
  /**
   * The passages as numbered for the model. The stream's `citations` event is what the answer cites by:
   * an answerer that picks its sources up front (extractive) lists and renumbers only those.
   */
  readonly citations: Citation[];
  /** How many chunks retrieval returned (before context assembly). */
  readonly retrieved: number;
  /** The answer as it is generated. Throws a ProviderError (after saving the partial answer) if the stream breaks. */
  events(signal?: AbortSignal): AsyncGenerator<AnswerEvent>;
}

/**
 * The chat orchestrator, everything that can fail before the first byte, in four steps: load (chat,
 * bot, history, the input plan and the quota reservation, credentials) → retrieve (query rewrite, hybrid
 * retrieval, context assembly) → prompt → generate. The returned answer then streams the generation and
 * saves the message and usage, settling the reservation (see stream-answer.ts); a failure before that
 * gives the reservation back.
 */
export async function prepareAnswer(
  auth: AuthContext,
  target: AnswerTarget,
  question: string,
  deps: AnswerDeps,
  signal?: AbortSignal,
  trace: TraceRecorder = noTrace,
): Promise<PreparedAnswer> {
  requireScope(auth, 'chat');
  const conversation = await loadConversation(auth, target, question, deps, trace);
  return releasingOnFailure(auth.tenantId, conversation.reservationId, deps, async () => {
    // Building the provider client: its SDK is loaded on first use.
    const model = await trace.time('model', async () =>
      deps.chatModelFor(conversation.bot, conversation.credentials),
    );
    trace.settings(conversation.bot, model, conversation.plan.sourceTokens);
    const grounding = await retrieveGrounding(
      auth.tenantId,
      question,
      conversation,
      model,
      deps,
      signal,
      trace,
    );
    const request = answerRequest(
      conversation.bot,
      conversation.history,
      question,
      grounding.query,
      grounding.passages,
    );
    trace.span('assembly', grounding.assemblyStart, trace.now());
    return generate(auth, conversation, question, grounding, model, request, deps, signal, trace);
  });
}

/** Runs the steps after admission; if one fails, the request's quota reservation is given back. */
async function releasingOnFailure<T>(
  tenantId: TenantId,
  reservationId: string | null,
  deps: AnswerDeps,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (reservationId) {
      await deps.db.withTenant(tenantId, (tx) => settleReservation(tx, tenantId, reservationId));
    }
    throw error;
  }
}

interface Conversation {
  readonly bot: BotProfile;
  readonly chatId: string | null;
  /** The newest turns that fit the bot's input limit. */
  readonly history: readonly ChatTurn[];
  readonly plan: InputPlan;
  /** Settled when the answer's usage is saved (null: the tenant has no limits). */
  readonly reservationId: string | null;
  readonly credentials: ProviderCredentials | null;
}

/**
 * Load: the chat, its bot and history, the input plan and the quota reservation (429 before any provider
 * call), and the bot's credentials (decrypted for this call only).
 */
async function loadConversation(
  auth: AuthContext,
  target: AnswerTarget,
  question: string,
  deps: AnswerDeps,
  trace: TraceRecorder,
): Promise<Conversation> {
  const { tenantId, visitor } = auth;
  const now = deps.now?.() ?? new Date();
  const historyStart = trace.now();
  let quotaStart = 0;
  const { bot, plan, chatId, sealed, reservationId } = await deps.db.withTenant(tenantId, async (tx) => {
    const chat = 'chatId' in target ? await findChat(tx, tenantId, target.chatId) : null;
    if ('chatId' in target && !chat) throw new NotFoundError('Chat');
    // A website visitor asks only in a chat it started, with its key's bot: anything else does not exist.
    if (visitor && !(chat && isVisitorsChat(chat, visitor))) throw new NotFoundError('Chat');
    const botId = chat?.botId ?? ('botId' in target ? target.botId : '');
    const found: BotProfile | null = await findBot(tx, tenantId, botId);
    if (!found) throw new NotFoundError('Bot');
    const turns: ChatTurn[] = chat
      ? (await listMessages(tx, tenantId, chat.id, 20))
          .filter((m) => m.status !== 'failed')
          .map((m) => ({ role: m.role, content: m.content }))
      : [...('history' in target ? target.history : [])];
    const plan = planInput({
      system: botInstructions(found),
      question,
      history: turns,
      maxInputTokens: found.maxInputTokens,
      contextBudgetTokens: deps.contextBudgetTokens ?? 4000,
      maxOutputTokens: found.maxOutputTokens,
      usesModel: found.provider !== null,
    });
    const sealed = found.provider ? await findBotCredentials(tx, tenantId, found.id) : null;
    quotaStart = trace.now();
    trace.span('history', historyStart, quotaStart);
    // Last in this transaction: the per-tenant quota lock is held until it commits.
    const reservationId = await reserveQuota(tx, tenantId, plan.reservedTokens, now, visitor);
    return { bot: found, plan, chatId: chat?.id ?? null, sealed, reservationId };
  });
  trace.span('quota', quotaStart, trace.now());
  // Outside the transaction: the key service call must not hold a database connection.
  const credentials = await releasingOnFailure(tenantId, reservationId, deps, () =>
    trace.time('credentials', () => openBotCredentials(sealed, tenantId, bot.id, deps.vault)),
  );
  return { bot, chatId, history: plan.history, plan, reservationId, credentials };
}

const isVisitorsChat = (chat: Chat, visitor: Visitor): boolean =>
  chat.visitorId === visitor.visitorId &&
  chat.publishableKeyId === visitor.publishableKeyId &&
  chat.botId === visitor.botId;

interface Grounding {
  /** The question as retrieval saw it (rewritten from the history when there is one). */
  readonly query: string;
  readonly passages: ContextPassage[];
  readonly citations: Citation[];
  /** The embedding and rewrite calls made so far, saved with the answer. */
  readonly usage: PendingUsage[];
  readonly retrieved: number;
  /** When context assembly started (a `trace.now()` reading; it ends once the prompt is built). */
  readonly assemblyStart: number;
}

/**
 * Retrieve: rewrite the question from the history, retrieve (dense + full text) and assemble numbered
 * passages within the plan's room for sources.
 */
async function retrieveGrounding(
  tenantId: TenantId,
  question: string,
  conversation: Conversation,
  model: ChatModel,
  deps: AnswerDeps,
  signal: AbortSignal | undefined,
  trace: TraceRecorder,
): Promise<Grounding> {
  const { bot, plan } = conversation;
  const rewrite = await trace.time('rewrite', () =>
    rewriteQuery(question, conversation.history, model, deps.logger, signal),
  );
  trace.rewrite(rewrite.status, rewrite.query);
  const retrieval = await retrieveContext(
    tenantId,
    rewrite.query,
    {
      topK: bot.retrieval.topK,
      tags: bot.retrieval.tags,
      scoreThreshold: bot.retrieval.scoreThreshold,
      lexical: bot.retrieval.queryExpansion ? EXPANDED_LEXICAL_SCORING : LEXICAL_SCORING,
    },
    deps,
    trace,
  );
  const reranked = await trace.time('rerank', () =>
    rerankCandidates(rewrite.query, retrieval.chunks, bot.retrieval.rerank, deps, signal),
  );
  const assemblyStart = trace.now();
  const assembled = assembleContext(reranked.chunks, plan.sourceTokens);
  const context = fitSources(assembled.passages, assembled.citations, plan.sourceTokens);
  trace.context(context.citations, assembled.passageTokens);

  const usage: PendingUsage[] = [];
  const space = deps.embedder.space;
  usage.push({
    kind: 'embed',
    provider: space.provider,
    model: space.model,
    inputTokens: retrieval.embeddingTokens,
    outputTokens: 0,
    costUsd: costUsd(space.provider, space.model, retrieval.embeddingTokens, 0),
  });
  if (reranked.usage) usage.push(reranked.usage);
  if (rewrite.rewritten) {
    usage.push({
      kind: 'rewrite',
      provider: model.provider,
      model: model.model,
      inputTokens: rewrite.inputTokens,
      outputTokens: rewrite.outputTokens,
      costUsd: costUsd(model.provider, model.model, rewrite.inputTokens, rewrite.outputTokens),
    });
  }
  return {
    query: rewrite.query,
    passages: context.passages,
    citations: context.citations,
    usage,
    retrieved: retrieval.chunks.length,
    assemblyStart,
  };
}

/** Generate: the answer, streamed when the caller pulls its events (see stream-answer.ts). */
function generate(
  auth: AuthContext,
  conversation: Conversation,
  question: string,
  grounding: Grounding,
  model: ChatModel,
  request: ChatRequest,
  deps: AnswerDeps,
  signal: AbortSignal | undefined,
  trace: TraceRecorder,
): PreparedAnswer {
  const messageId = newId();
  return {
    messageId,
    meta: {
      type: 'meta',
      messageId,
      chatId: conversation.chatId,
      botId: conversation.bot.id,
      query: grounding.query,
    },
    citations: grounding.citations,
    retrieved: grounding.retrieved,
    events: (streamSignal) =>
      streamAnswer({
        auth,
        bot: conversation.bot,
        chatId: conversation.chatId,
        messageId,
        question,
        query: grounding.query,
        citations: grounding.citations,
        usage: grounding.usage,
        reservationId: conversation.reservationId,
        model,
        request,
        estimateTokens: countTokens,
        deps,
        signal: streamSignal ?? signal,
        trace,
      }),
  };
}
