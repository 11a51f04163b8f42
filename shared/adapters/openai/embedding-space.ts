import { ValidationError } from '#shared/domain/errors.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import type { OpenAiProvider } from './openai-errors.ts';

export interface OpenAiEmbedderOptions {
  readonly apiKey: string;
  /** Default `text-embedding-3-small`. */
  readonly model?: string;
  /**
   * Vector size. Sent to the API (text-embedding-3-* shorten their vectors to it); required for models
   * whose native size is not known here, e.g. on an OpenAI-compatible server.
   */
  readonly dimensions?: number;
  readonly baseURL?: string;
  readonly provider?: OpenAiProvider;
  /** Per request. Default 60 s. */
  readonly timeoutMs?: number;
}

/** OpenAI's limit is 2048 inputs per request; 128 keeps one request well under its token limits too. */
export const MAX_BATCH_SIZE = 128;

const NATIVE_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * The embedding space an OpenAI embedder with these options writes to. Known without the SDK, so the
 * composition can name the space at start and load the SDK only when something is embedded.
 */
export function openAiEmbeddingSpace(
  options: Omit<OpenAiEmbedderOptions, 'apiKey'>,
): EmbeddingSpace & { readonly provider: OpenAiProvider } {
  const provider = options.provider ?? 'openai';
  const model = options.model ?? 'text-embedding-3-small';
  const dimensions = options.dimensions ?? NATIVE_DIMENSIONS[model];
  if (dimensions === undefined) {
    throw new ValidationError(`Embedding model "${model}" needs its vector size configured (dimensions)`);
  }
  return { provider, model, dimensions };
}
