import type { Config } from './config/schema.ts';
import type { BlobStore } from './ports/blob-store.ts';
import type { Database } from './ports/database.ts';
import type { Embedder } from './ports/embedder.ts';
import type { IngestQueue } from './ports/ingest-queue.ts';
import type { KeyVault } from './ports/key-vault.ts';
import type { Logger } from './ports/logger.ts';
import type { Metrics, Tracing } from './ports/telemetry.ts';
import type { VectorStore } from './ports/vector-store.ts';

/** Secrets resolved at start-up (from env, the local key file or Secrets Manager). */
export interface PlatformSecrets {
  readonly adminToken: string;
  readonly jwtSigningKey: string;
}

/**
 * Everything a function's app needs, built once per container by its `deps.ts` (the composition root)
 * and passed to `createApiApp(platform)` / `createChatStreamApp(platform)`.
 */
export interface Platform {
  readonly config: Config;
  readonly db: Database;
  readonly logger: Logger;
  readonly secrets: PlatformSecrets;
  readonly vault: KeyVault;
  readonly ingestQueue: IngestQueue;
  readonly vectorStore: VectorStore;
  /** Uploaded originals: S3 in AWS, MINIRAG_DATA_DIR/blobs locally. */
  readonly blobStore: BlobStore;
  /** The platform's embedder: one embedding space per deployment. */
  readonly embedder: Embedder;
  /**
   * Platform-level provider keys (operator's own, from env / Secrets Manager): used for the embedder and
   * for bots that name a provider but store no key of their own. Never returned or logged.
   */
  readonly providerKeys: {
    readonly openai?: string | undefined;
    readonly anthropic?: string | undefined;
    /** For bots that rerank with Cohere's own API. */
    readonly cohere?: string | undefined;
  };
  /** Operational metrics (EMF in AWS, DEBUG log lines locally); absent: not measured. */
  readonly metrics?: Metrics;
  /** Trace spans (X-Ray in AWS) around provider calls; the other ports are wrapped at composition. */
  readonly tracing?: Tracing;
}
