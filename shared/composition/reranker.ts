import type { Config } from '../config/schema.ts';
import type { RerankSettings } from '../domain/bot.ts';
import { ProviderError } from '../domain/errors.ts';
import type { Reranker } from '../ports/reranker.ts';
import type { RerankerFor } from '../usecases/answering/rerank-candidates.ts';
import { bedrockClientsFor, bedrockRegionOf } from './bedrock.ts';
import { once } from './deferred.ts';

/**
 * The `rerankerFor` the answering use case is given: Bedrock rerank models with the deployment's AWS
 * identity and region, or Cohere's API with the operator's COHERE_API_KEY. Neither takes a tenant's key.
 * The adapter (and the Bedrock SDK) loads on the first rerank.
 */
export function rerankerFactory(config: Config, cohereApiKey: string | undefined): RerankerFor {
  return (settings) => {
    if (settings.provider === 'cohere' && !cohereApiKey) {
      throw new ProviderError(
        'The bot reranks with Cohere, but this server has no Cohere API key (the operator sets COHERE_API_KEY).',
        { status: 400 },
      );
    }
    const load = once(() => loadReranker(config, settings, cohereApiKey ?? ''));
    return {
      provider: settings.provider,
      model: settings.model,
      rerank: async (query, documents, options) => (await load()).rerank(query, documents, options),
    };
  };
}

async function loadReranker(
  config: Config,
  settings: RerankSettings,
  cohereApiKey: string,
): Promise<Reranker> {
  if (settings.provider === 'bedrock') {
    const [clients, { createBedrockReranker }] = await Promise.all([
      bedrockClientsFor(config)(),
      import('../adapters/bedrock/reranker.ts'),
    ]);
    return createBedrockReranker({
      client: clients.agentRuntime(),
      model: settings.model,
      region: bedrockRegionOf(config),
    });
  }
  const { createCohereReranker } = await import('../adapters/cohere/reranker.ts');
  return createCohereReranker({
    apiKey: cohereApiKey,
    model: settings.model,
    baseURL: config.COHERE_BASE_URL,
  });
}
