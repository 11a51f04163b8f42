import { rerankCostUsd } from '../../config/prices.ts';
import type { RerankSettings } from '../../domain/bot.ts';
import { ProviderError } from '../../domain/errors.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Reranker } from '../../ports/reranker.ts';
import type { RetrievedChunk } from './retrieve-context.ts';
import type { PendingUsage } from './stream-answer.ts';

/** Builds the reranker a bot's settings name; the composition root binds the deployment's clients and keys. */
export type RerankerFor = (settings: RerankSettings) => Reranker;

export interface RerankedCandidates {
  readonly chunks: RetrievedChunk[];
  /** The rerank call, saved with the answer; absent when no call was made. */
  readonly usage?: PendingUsage;
}

/**
 * The stage between hybrid retrieval and context assembly: when the bot asks for it, a rerank model
 * reorders the fused candidates and the best `topN` go on, scored by the model. Off by default. A rerank
 * service that is only temporarily unavailable (rate limit, outage) does not cost the reader the answer:
 * the fused order is kept and a warning logged. A refusal that another try cannot fix (an unknown model,
 * model access not enabled) is the bot's error and fails the question like any provider error.
 */
export async function rerankCandidates(
  query: string,
  chunks: RetrievedChunk[],
  settings: RerankSettings | null | undefined,
  deps: { readonly rerankerFor?: RerankerFor | undefined; readonly logger: Logger },
  signal?: AbortSignal,
): Promise<RerankedCandidates> {
  if (!settings || chunks.length === 0) return { chunks };
  if (!deps.rerankerFor) {
    throw new ProviderError('Reranking is not available on this server.', { status: 502, retryable: false });
  }
  const reranker = deps.rerankerFor(settings);
  let result: Awaited<ReturnType<Reranker['rerank']>>;
  try {
    result = await reranker.rerank(
      query,
      chunks.map((c) => c.content),
      { topN: settings.topN, signal },
    );
  } catch (error) {
    signal?.throwIfAborted();
    if (!(error instanceof ProviderError) || !error.retryable) throw error;
    deps.logger.warn('Reranking failed; the fused order is kept', {
      provider: reranker.provider,
      model: reranker.model,
      status: error.status,
    });
    return { chunks: chunks.slice(0, settings.topN) };
  }
  const reranked = result.ranking.flatMap((r) => {
    const chunk = chunks[r.index];
    return chunk ? [{ ...chunk, score: r.score }] : [];
  });
  return {
    chunks: reranked,
    usage: {
      kind: 'rerank',
      provider: reranker.provider,
      model: reranker.model,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: rerankCostUsd(reranker.provider, reranker.model, result.searchUnits),
    },
  };
}
