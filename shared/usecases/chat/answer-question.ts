import { requireScope } from '../../auth/authorize.ts';
import { costUsd } from '../../config/prices.ts';
import type { AuthContext } from '../../domain/auth-context.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { newId } from '../../domain/ids.ts';
import type { ChatModel, ChatTurn } from '../../ports/chat-model.ts';
import type { Database } from '../../ports/database.ts';
import type { Embedder } from '../../ports/embedder.ts';
import type { KeyVault } from '../../ports/key-vault.ts';
import type { Logger } from '../../ports/logger.ts';
import type { VectorStore } from '../../ports/vector-store.ts';
import type { HostLookup } from '../../rag/fetch-url.ts';
import { countTokens } from '../../rag/tokenizer.ts';
import { type BotProfile, findBot, findBotCredentials } from '../../repositories/bots.ts';
import { type Citation, findChat, listMessages } from '../../repositories/chats.ts';
import { openBotCredentials } from '../bots.ts';
import type { AnswerEvent } from './answer-events.ts';
import { assembleContext } from './assemble-context.ts';
import { chatModelForBot, type ProviderEndpoints } from './bot-model.ts';
import { assertWithinQuota } from './quota.ts';
import { retrieveContext } from './retrieve-context.ts';
import { rewriteQuery } from './rewrite-query.ts';
import { type PendingUsage, streamAnswer } from './stream-answer.ts';

export type { AnswerEvent };

export interface AnswerDeps {
  readonly db: Database;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly vault: KeyVault;
  readonly logger: Logger;
  readonly providerKeys: { openai?: string | undefined; anthropic?: string | undefined };
  readonly endpoints?: ProviderEndpoints;
  /** ALLOW_LOCAL_PROVIDER_URLS: a bot's own base_url may be a loopback address (local mode only). */
  readonly allowLocalProviderUrls?: boolean;
  /** Tests resolve bot base_url host names without DNS. */
  readonly lookup?: HostLookup;
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
  readonly citations: Citation[];
  /** The answer as it is generated. Throws a ProviderError (after saving the partial answer) if the stream breaks. */
  events(signal?: AbortSignal): AsyncGenerator<AnswerEvent>;
}

const PLATFORM_INSTRUCTIONS =
  'Answer the question using only the numbered sources provided. Cite every claim with the source ' +
  'number in square brackets, like [1] or [2]. If the sources do not contain the answer, say so plainly.';

/**
 * The chat orchestrator, everything that can fail before the first byte: quota → bot and history →
 * query rewrite → hybrid retrieval → context assembly. The returned answer then streams the
 * generation and saves the message and usage (see stream-answer.ts).
 */
export async function prepareAnswer(
  auth: AuthContext,
  target: AnswerTarget,
  question: string,
  deps: AnswerDeps,
  signal?: AbortSignal,
): Promise<PreparedAnswer> {
  requireScope(auth, 'chat');
  const tenantId = auth.tenantId;
  const now = deps.now?.() ?? new Date();

  const { bot, history, chatId, sealed } = await deps.db.withTenant(tenantId, async (tx) => {
    await assertWithinQuota(tx, tenantId, now);
    const chat = 'chatId' in target ? await findChat(tx, tenantId, target.chatId) : null;
    if ('chatId' in target && !chat) throw new NotFoundError('Chat');
    const botId = chat?.botId ?? ('botId' in target ? target.botId : '');
    const found: BotProfile | null = await findBot(tx, tenantId, botId);
    if (!found) throw new NotFoundError('Bot');
    const turns: ChatTurn[] = chat
      ? (await listMessages(tx, tenantId, chat.id, 20))
          .filter((m) => m.status !== 'failed')
          .map((m) => ({ role: m.role, content: m.content }))
      : [...('history' in target ? target.history : [])];
    const sealed = found.provider ? await findBotCredentials(tx, tenantId, found.id) : null;
    return { bot: found, history: turns, chatId: chat?.id ?? null, sealed };
  });
  // Outside the transaction: the key service call must not hold a database connection.
  const credentials = await openBotCredentials(sealed, tenantId, bot.id, deps.vault);
  const model: ChatModel = await chatModelForBot(bot, credentials, deps.providerKeys, deps.endpoints ?? {}, {
    allowLoopback: deps.allowLocalProviderUrls ?? false,
    lookup: deps.lookup,
  });

  const rewrite = await rewriteQuery(question, history, model, deps.logger, signal);
  const retrieval = await retrieveContext(
    tenantId,
    rewrite.query,
    { topK: bot.retrieval.topK, tags: bot.retrieval.tags, scoreThreshold: bot.retrieval.scoreThreshold },
    deps,
  );
  const context = assembleContext(retrieval.chunks, deps.contextBudgetTokens ?? 4000);

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

  const rendered = context.passages.map((p) => `[${p.n}] ${p.title}\n${p.content}`).join('\n\n');
  const messageId = newId();
  return {
    messageId,
    citations: context.citations,
    events: (streamSignal) =>
      streamAnswer({
        auth,
        bot,
        chatId,
        messageId,
        question,
        query: rewrite.query,
        citations: context.citations,
        usage,
        model,
        request: {
          system: [bot.systemPrompt, PLATFORM_INSTRUCTIONS].filter(Boolean).join('\n\n'),
          messages: [
            ...history.slice(-10),
            {
              role: 'user',
              content: `Sources:\n${rendered || '(no sources found)'}\n\nQuestion: ${question}`,
            },
          ],
          question: rewrite.query,
          passages: context.passages,
          ...(bot.temperature !== null ? { temperature: bot.temperature } : {}),
          ...(bot.maxOutputTokens !== null ? { maxOutputTokens: bot.maxOutputTokens } : {}),
        },
        estimateTokens: countTokens,
        deps,
        signal: streamSignal ?? signal,
      }),
  };
}
