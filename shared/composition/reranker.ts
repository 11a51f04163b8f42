import { createBedrockReranker } from '../adapters/bedrock/reranker.ts';
import { createCohereReranker } from '../adapters/cohere/reranker.ts';
import type { Config } from '../config/schema.ts';
import { ProviderError } from '../domain/errors.ts';
import type { RerankerFor } from '../usecases/answering/rerank-candidates.ts';
import { bedrockClientsFor } from './bedrock.ts';

/**
 * The `rerankerFor` the answering use case is given: Bedrock rerank models with the deployment's AWS
 * identity and region, or Cohere's API with the operator's COHERE_API_KEY. Neither takes a tenant's key.
 */
export function rerankerFactory(config: Config, cohereApiKey: string | undefined): RerankerFor {
  return (settings) => {
    if (settings.provider === 'bedrock') {
      const clients = bedrockClientsFor(config);
      return createBedrockReranker({
        client: clients.agentRuntime(),
        model: settings.model,
        region: clients.defaultRegion,
      });
    }
    if (!cohereApiKey) {
      throw new ProviderError(
        'The bot reranks with Cohere, but this server has no Cohere API key (the operator sets COHERE_API_KEY).',
        { status: 400 },
      );
    }
    return createCohereReranker({
      apiKey: cohereApiKey,
      model: settings.model,
      baseURL: config.COHERE_BASE_URL,
    });
  };
}
