import { createOfflineEmbedder } from '../adapters/offline/embedder.ts';
import { MAX_BATCH_SIZE, openAiEmbeddingSpace } from '../adapters/openai/embedding-space.ts';
import type { Config } from '../config/schema.ts';
import type { Embedder } from '../ports/embedder.ts';
import { deferredEmbedder } from './deferred.ts';

/**
 * The deployment's embedder. OpenAI (or any OpenAI-compatible server via EMBEDDING_BASE_URL) when asked
 * for or when an OpenAI key is present; otherwise the offline hashed n-gram embedder, which needs no
 * network and no download.
 */
export function selectEmbedder(config: Config, openAiApiKey: string | undefined): Embedder {
  const provider = config.EMBEDDING_PROVIDER ?? (openAiApiKey ? 'openai' : 'offline');
  if (provider === 'openai') {
    if (!openAiApiKey)
      throw new Error('EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_API_KEY_SECRET_ARN)');
    const options = {
      apiKey: openAiApiKey,
      model: config.EMBEDDING_MODEL ?? 'text-embedding-3-small',
      dimensions: config.EMBEDDING_DIMENSIONS,
      baseURL: config.EMBEDDING_BASE_URL ?? config.OPENAI_BASE_URL,
      provider: config.EMBEDDING_BASE_URL ? ('openai-compatible' as const) : ('openai' as const),
    };
    return deferredEmbedder(openAiEmbeddingSpace(options), MAX_BATCH_SIZE, async () =>
      (await import('../adapters/openai/embedder.ts')).createOpenAiEmbedder(options),
    );
  }
  return createOfflineEmbedder({ dimensions: config.EMBEDDING_DIMENSIONS ?? 384 });
}
