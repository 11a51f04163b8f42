/** Identifies a vector space: vectors from different spaces are never compared. */
export interface EmbeddingSpace {
  readonly provider: string;
  readonly model: string;
  readonly dimensions: number;
}

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  readonly vectors: number[][];
  /** Tokens the provider billed (0 for the offline embedder). */
  readonly inputTokens: number;
}

/**
 * What the texts are for. Some models embed a query differently from the passages it should find (Cohere's
 * `input_type`); the others ignore it. Default: `document`.
 */
export type EmbeddingPurpose = 'document' | 'query';

export interface EmbedOptions {
  readonly signal?: AbortSignal;
  readonly purpose?: EmbeddingPurpose;
}

/**
 * The Embedder port. An adapter embeds ONE batch per call and may reject batches larger than
 * `maxBatchSize`; `embedInBatches` (shared/rag) splits, retries and counts.
 */
export interface Embedder {
  readonly space: EmbeddingSpace;
  readonly maxBatchSize: number;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
}
