/** One reordered candidate: its position in the documents given, and the model's relevance score. */
export interface RerankedDocument {
  readonly index: number;
  /** Higher is more relevant; the scale is the model's own. */
  readonly score: number;
}

export interface RerankResult {
  /** The best `topN` documents, best first. */
  readonly ranking: readonly RerankedDocument[];
  /**
   * Billed units: rerank models are priced per search (one query over up to 100 documents) rather than
   * per token.
   */
  readonly searchUnits: number;
}

/**
 * The Reranker port: a second, slower and better opinion on the candidates hybrid retrieval found, asked
 * before the context is assembled. Contract every adapter keeps:
 * - failures are `ProviderError`s (429 with `retryAfterSeconds` for a rate limit, 400 for a model the
 *   provider refuses, 502 otherwise; `retryable` says whether another try may work); messages never
 *   contain a credential;
 * - indexes refer to `documents` as given; no index appears twice; at most `topN` are returned;
 * - aborting `signal` rejects with `signal.reason`.
 */
export interface Reranker {
  /** 'bedrock' | 'cohere': the key usage events and prices use. */
  readonly provider: string;
  readonly model: string;
  rerank(
    query: string,
    documents: readonly string[],
    options: { readonly topN: number; readonly signal?: AbortSignal | undefined },
  ): Promise<RerankResult>;
}
