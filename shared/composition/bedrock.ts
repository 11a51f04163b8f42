import type { BedrockClients } from '../adapters/bedrock/clients.ts';
import type { Config } from '../config/schema.ts';
import { once } from './deferred.ts';

const byConfig = new WeakMap<Config, () => Promise<BedrockClients>>();

/** Where Bedrock is called for bots without a region of their own, and for embeddings and reranking. */
export const bedrockRegionOf = (config: Config): string =>
  config.BEDROCK_REGION ?? config.AWS_REGION ?? 'us-east-1';

/**
 * Loads the deployment's Bedrock clients (chat, embeddings and reranking share them) on first use, once per
 * config: a cold start that never calls Bedrock never parses its SDK. Credentials come from the AWS SDK's
 * default chain: the function's role in AWS, the developer's environment or profile locally. Nothing here
 * is a tenant's setting.
 */
export function bedrockClientsFor(config: Config): () => Promise<BedrockClients> {
  let load = byConfig.get(config);
  if (!load) {
    load = once(async () =>
      (await import('../adapters/bedrock/clients.ts')).createBedrockClients({
        defaultRegion: bedrockRegionOf(config),
        runtimeEndpoint: config.BEDROCK_ENDPOINT_URL,
        agentRuntimeEndpoint: config.BEDROCK_AGENT_RUNTIME_ENDPOINT_URL,
      }),
    );
    byConfig.set(config, load);
  }
  return load;
}
