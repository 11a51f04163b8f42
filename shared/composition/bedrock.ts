import { type BedrockClients, createBedrockClients } from '../adapters/bedrock/clients.ts';
import type { Config } from '../config/schema.ts';

const byConfig = new WeakMap<Config, BedrockClients>();

/**
 * The deployment's Bedrock clients (chat, embeddings and reranking share them), built once per config.
 * Credentials come from the AWS SDK's default chain: the function's role in AWS, the developer's
 * environment or profile locally. Nothing here is a tenant's setting.
 */
export function bedrockClientsFor(config: Config): BedrockClients {
  let clients = byConfig.get(config);
  if (!clients) {
    clients = createBedrockClients({
      defaultRegion: config.BEDROCK_REGION ?? config.AWS_REGION ?? 'us-east-1',
      runtimeEndpoint: config.BEDROCK_ENDPOINT_URL,
      agentRuntimeEndpoint: config.BEDROCK_AGENT_RUNTIME_ENDPOINT_URL,
    });
    byConfig.set(config, clients);
  }
  return clients;
}
