import { createKmsKeyVault } from '../adapters/kms/kms-key-vault.ts';
import { createPgVectorStore } from '../adapters/pgvector/vector-store.ts';
import { createPostgresDatabase } from '../adapters/postgres/database.ts';
import { createEmfMetrics } from '../adapters/powertools/metrics.ts';
import { createXRayTracing } from '../adapters/powertools/tracing.ts';
import { createDataApiDatabase } from '../adapters/rds-data/database.ts';
import { createS3BlobStore } from '../adapters/s3/blob-store.ts';
import { createSqsIngestQueue } from '../adapters/sqs/ingest-queue.ts';
import type { Config } from '../config/schema.ts';
import { createSecretResolver, type Env } from '../config/secrets.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Platform } from '../platform.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Database } from '../ports/database.ts';
import { deferredQdrantVectorStore } from './deferred.ts';
import { selectEmbedder } from './embedder.ts';
import { createLogger } from './logger.ts';
import { tracedDatabase, tracedEmbedder, tracedVectorStore } from './traced.ts';

/**
 * The AWS composition: PostgreSQL (Aurora through the Data API or RDS Proxy, or external), KMS, secrets from Secrets
 * Manager. Called once per Lambda container by each function's deps.ts.
 */
export async function buildCloudPlatform(
  config: Config,
  env: Env,
  serviceName: string,
  options: { readonly verifiesTokens: boolean },
): Promise<Platform> {
  const secrets = createSecretResolver();
  const dataApi = config.DATABASE_DRIVER === 'data-api';
  const [databaseUrl, adminToken, jwtSigningKey, openAiKey, qdrantKey, anthropicKey, cohereKey] =
    await Promise.all([
      // Through the Data API the function never holds the database password: the service reads the secret.
      dataApi ? undefined : secrets.resolveDatabaseUrl({ env, host: env.DATABASE_HOST }),
      secrets.resolve('ADMIN_TOKEN', { env }),
      // The ingest function authenticates nobody and is not granted the signing key.
      secrets.resolve('JWT_SIGNING_KEY', { env, required: options.verifiesTokens }),
      secrets.resolve('OPENAI_API_KEY', { env }),
      secrets.resolve('QDRANT_API_KEY', { env }),
      secrets.resolve('ANTHROPIC_API_KEY', { env }),
      secrets.resolve('COHERE_API_KEY', { env }),
    ]);
  if (!config.KMS_KEY_ID) throw new ValidationError('KMS_KEY_ID must be set in AWS');
  const tracing = createXRayTracing(serviceName);
  const db = tracedDatabase(
    dataApi ? dataApiDatabase(config) : postgresDatabase(config, databaseUrl),
    tracing,
  );
  const logger = createLogger(config, serviceName);
  return {
    config,
    db,
    logger,
    metrics: createEmfMetrics({
      namespace: config.POWERTOOLS_METRICS_NAMESPACE,
      serviceName,
      stage: config.MINIRAG_STAGE,
    }),
    tracing,
    // A function without one of these secrets gets an unguessable stand-in, so nothing can verify against it.
    secrets: {
      adminToken: adminToken ?? `unset-${crypto.randomUUID()}`,
      jwtSigningKey: jwtSigningKey ?? `unset-${crypto.randomUUID()}`,
    },
    vault: createKmsKeyVault({ keyId: config.KMS_KEY_ID }),
    ingestQueue: config.QUEUE_URL
      ? createSqsIngestQueue({ db, queueUrl: config.QUEUE_URL, logger })
      : { notify: async () => {}, sweep: async () => 0 }, // the ingest function itself enqueues nothing
    vectorStore: tracedVectorStore(
      config.VECTOR_STORE === 'qdrant'
        ? deferredQdrantVectorStore({ url: config.QDRANT_URL!, apiKey: qdrantKey })
        : createPgVectorStore(db),
      tracing,
    ),
    blobStore: config.BLOB_BUCKET ? createS3BlobStore({ bucket: config.BLOB_BUCKET }) : missingBlobStore,
    embedder: tracedEmbedder(selectEmbedder(config, openAiKey), tracing),
    providerKeys: { openai: openAiKey, anthropic: anthropicKey, cohere: cohereKey },
  };
}

/** A function deployed without a bucket (chat-stream needs none): any use is a configuration fault. */
const unconfigured = async (): Promise<never> => {
  throw new Error('BLOB_BUCKET is not set: this function has no blob store');
};
const missingBlobStore: BlobStore = {
  presignUpload: unconfigured,
  put: unconfigured,
  head: unconfigured,
  get: unconfigured,
  retain: unconfigured,
  deletePrefix: unconfigured,
};

function dataApiDatabase(config: Config): Database {
  if (!config.DATABASE_CLUSTER_ARN || !config.DATABASE_SECRET_ARN) {
    throw new ValidationError('DATABASE_DRIVER=data-api needs DATABASE_CLUSTER_ARN and DATABASE_SECRET_ARN');
  }
  return createDataApiDatabase({
    resourceArn: config.DATABASE_CLUSTER_ARN,
    secretArn: config.DATABASE_SECRET_ARN,
    database: config.DATABASE_NAME,
    schema: config.DATABASE_SCHEMA,
  });
}

function postgresDatabase(config: Config, url: string | undefined): Database {
  if (!url) throw new ValidationError('DATABASE_URL or DATABASE_SECRET_ARN must be set');
  return createPostgresDatabase({
    url,
    schema: config.DATABASE_SCHEMA,
    maxConnections: config.DATABASE_MAX_CONNECTIONS,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
}

/**
 * Builds the platform once per container, on first use; a failed cold start is retried by the next
 * invocation instead of leaving the container broken.
 */
export function platformOnce(build: () => Promise<Platform>): () => Promise<Platform> {
  let platform: Promise<Platform> | undefined;
  return () => {
    platform ??= build().catch((error: unknown) => {
      platform = undefined;
      throw error;
    });
    return platform;
  };
}
