import { createBedrockEmbedder } from '../adapters/bedrock/embedder.ts';
import { createOfflineEmbedder } from '../adapters/offline/embedder.ts';
import { createOpenAiEmbedder } from '../adapters/openai/embedder.ts';
import type { Config } from '../config/schema.ts';
import type { Embedder } from '../ports/embedder.ts';
import { bedrockClientsFor } from './bedrock.ts';

/**
 * The deployment's embedder. OpenAI (or any OpenAI-compatible server via EMBEDDING_BASE_URL) when asked
 * for or when an OpenAI key is present; Amazon Bedrock (Titan Text Embeddings V2 or Cohere Embed, with the
 * deployment's AWS identity) when EMBEDDING_PROVIDER=bedrock; otherwise the offline hashed n-gram embedder,
 * which needs no network and no download.
 */
export function selectEmbedder(config: Config, openAiApiKey: string | undefined): Embedder {
  const provider = config.EMBEDDING_PROVIDER ?? (openAiApiKey ? 'openai' : 'offline');
  if (provider === 'bedrock') {
    const clients = bedrockClientsFor(config);
    return createBedrockEmbedder({
      client: clients.runtime(),
      region: clients.defaultRegion,
      model: config.EMBEDDING_MODEL,
      dimensions: config.EMBEDDING_DIMENSIONS,
    });
  }
  if (provider === 'openai') {
    if (!openAiApiKey)
      throw new Error('EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_API_KEY_SECRET_ARN)');
    return createOpenAiEmbedder({
      apiKey: openAiApiKey,
      model: config.EMBEDDING_MODEL ?? 'text-embedding-3-small',
      dimensions: config.EMBEDDING_DIMENSIONS,
      baseURL: config.EMBEDDING_BASE_URL ?? config.OPENAI_BASE_URL,
      provider: config.EMBEDDING_BASE_URL ? 'openai-compatible' : 'openai',
    });
  }
  return createOfflineEmbedder({ dimensions: config.EMBEDDING_DIMENSIONS ?? 384 });
}
