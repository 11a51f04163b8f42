import { join } from 'node:path';
import { createFsBlobStore } from '../adapters/filesystem/blob-store.ts';
import { createLocalKeyVaultFromBase64 } from '../adapters/local-keyring/local-key-vault.ts';
import { createLocalIngestQueue } from '../adapters/local-queue/ingest-queue.ts';
import { createPgliteDatabase } from '../adapters/pglite/database.ts';
import { createPgVectorStore } from '../adapters/pgvector/vector-store.ts';
import { createPostgresDatabase } from '../adapters/postgres/database.ts';
import { createLoggedMetrics } from '../adapters/powertools/metrics.ts';
import { loadOrCreateLocalSecrets, secureDataDir } from '../config/key-file.ts';
import type { Config } from '../config/schema.ts';
import { migrate } from '../db/migrate.ts';
import type { Platform } from '../platform.ts';
import { deferredQdrantVectorStore } from './deferred.ts';
import { selectEmbedder } from './embedder.ts';
import { createLogger } from './logger.ts';

export type LocalPlatform = Platform & {
  readonly ingestQueue: ReturnType<typeof createLocalIngestQueue>;
  /** The local server also receives the uploads (`PUT /v1/uploads/{token}`) into it. */
  readonly blobStore: ReturnType<typeof createFsBlobStore>;
};

/**
 * The one-machine composition (`npm start`, the CLI): PGlite under the data directory unless
 * DATABASE_URL points at a server, secrets from env or the generated local key file, the local keyring,
 * the job table as the queue, pgvector (or Qdrant when configured).
 */
export async function buildLocalPlatform(config: Config, serviceName = 'minirag'): Promise<LocalPlatform> {
  const logger = createLogger(config, serviceName);
  const { narrowedFrom } = await secureDataDir(config.MINIRAG_DATA_DIR);
  if (narrowedFrom !== undefined) {
    logger.warn('The data directory was readable by other users; its mode is now 0700', {
      dataDir: config.MINIRAG_DATA_DIR,
      previousMode: `0${narrowedFrom.toString(8)}`,
    });
  }
  const fileSecrets = await loadOrCreateLocalSecrets(config.MINIRAG_DATA_DIR);
  const db = config.DATABASE_URL
    ? createPostgresDatabase({
        url: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        maxConnections: config.DATABASE_MAX_CONNECTIONS,
        connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      })
    : await createPgliteDatabase({
        dataDir: join(config.MINIRAG_DATA_DIR, 'pgdata'),
        sharedBuffersMb: config.PGLITE_SHARED_BUFFERS_MB,
      });
  await migrate(db);
  const jwtSigningKey = config.JWT_SIGNING_KEY ?? fileSecrets.jwtSigningKey;
  return {
    config,
    db,
    logger,
    metrics: createLoggedMetrics(logger),
    secrets: {
      adminToken: config.ADMIN_TOKEN ?? fileSecrets.adminToken,
      jwtSigningKey,
    },
    vault: createLocalKeyVaultFromBase64({
      current: config.MASTER_KEY ?? fileSecrets.masterKey,
      previous: fileSecrets.previousMasterKeys,
    }),
    ingestQueue: createLocalIngestQueue(),
    vectorStore:
      config.VECTOR_STORE === 'qdrant'
        ? deferredQdrantVectorStore({ url: config.QDRANT_URL!, apiKey: config.QDRANT_API_KEY })
        : createPgVectorStore(db),
    blobStore: createFsBlobStore({ dir: join(config.MINIRAG_DATA_DIR, 'blobs'), signingKey: jwtSigningKey }),
    embedder: selectEmbedder(config, config.OPENAI_API_KEY),
    providerKeys: {
      openai: config.OPENAI_API_KEY,
      anthropic: config.ANTHROPIC_API_KEY,
      cohere: config.COHERE_API_KEY,
    },
  };
}
