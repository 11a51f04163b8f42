import { BedrockAgentRuntimeClient } from '@aws-sdk/client-bedrock-agent-runtime';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';

export interface BedrockClientOptions {
  /** Where bots without a region of their own are served (the deployment's region). */
  readonly defaultRegion: string;
  /** Operator-only endpoint overrides (tests point them at a local stand-in); never a tenant's setting. */
  readonly runtimeEndpoint?: string | undefined;
  readonly agentRuntimeEndpoint?: string | undefined;
  /** Default: the AWS SDK's default credential chain (the function's role, or a developer's profile). */
  readonly credentials?: BedrockRuntimeClientConfig['credentials'];
}

/**
 * The Bedrock SDK clients of one deployment, one per region and built on first use, so the credential
 * chain is resolved once per container rather than once per chat. SDK retries are off: the chat adapter
 * retries before the first token only, and ingestion's batching retries embeddings itself.
 */
export interface BedrockClients {
  readonly defaultRegion: string;
  runtime(region?: string | null): BedrockRuntimeClient;
  agentRuntime(region?: string | null): BedrockAgentRuntimeClient;
}

export function createBedrockClients(options: BedrockClientOptions): BedrockClients {
  const runtimes = new Map<string, BedrockRuntimeClient>();
  const agents = new Map<string, BedrockAgentRuntimeClient>();
  const common = (region: string, endpoint: string | undefined) => ({
    region,
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return {
    defaultRegion: options.defaultRegion,
    runtime(region) {
      const r = region || options.defaultRegion;
      let client = runtimes.get(r);
      if (!client) {
        client = new BedrockRuntimeClient(common(r, options.runtimeEndpoint));
        runtimes.set(r, client);
      }
      return client;
    },
    agentRuntime(region) {
      const r = region || options.defaultRegion;
      let client = agents.get(r);
      if (!client) {
        client = new BedrockAgentRuntimeClient(common(r, options.agentRuntimeEndpoint));
        agents.set(r, client);
      }
      return client;
    },
  };
}
