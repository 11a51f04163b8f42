import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * Every setting MiniRAG reads from its environment, in one place. Secrets may be given directly
 * (`NAME`) or, in AWS, as a Secrets Manager ARN (`NAME_SECRET_ARN`) resolved at start-up.
 */
export const configSchema = z.object({
  PORT: int(1, 65535).default(8787),
  MINIRAG_DATA_DIR: z.string().min(1).default('.minirag'),
  LOG_LEVEL: z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'debug', 'info', 'warn', 'error', 'silent'])
    .default('INFO'),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_SECRET_ARN: z.string().optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case identifier')
    .optional(),
  DATABASE_MAX_CONNECTIONS: int(1, 100).default(5),
  /** Opening a database connection fails after this long (the API answers 503 instead of waiting). */
  DATABASE_CONNECT_TIMEOUT_SECONDS: int(1, 120).default(3),
  /** The server's statement_timeout; a statement unanswered a second longer is a stalled connection. */
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  /**
   * How to reach PostgreSQL: `postgres` (a connection, the default) or `data-api` (the RDS Data API over HTTPS,
   * for a serverless Aurora cluster; needs DATABASE_CLUSTER_ARN, DATABASE_SECRET_ARN and DATABASE_NAME).
   */
  DATABASE_DRIVER: z.enum(['postgres', 'data-api']).default('postgres'),
  DATABASE_CLUSTER_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:.+$/, 'must be an Aurora cluster ARN')
    .optional(),
  DATABASE_NAME: z.string().min(1).default('minirag'),
  /** The embedded database's (PGlite's) buffer pool, in MB: most of an idle local server's memory. */
  PGLITE_SHARED_BUFFERS_MB: int(1, 4096).default(64),

  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  ADMIN_TOKEN_SECRET_ARN: z.string().optional(),
  JWT_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_SIGNING_KEY_SECRET_ARN: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  /** Lifetime of a website visitor's token (from a publishable key); the widget asks for a new one after. */
  VISITOR_TOKEN_TTL_SECONDS: int(60, 86_400).default(3600),

  KMS_KEY_ID: z.string().optional(),
  MASTER_KEY: z.string().optional(),

  QUEUE_URL: z.string().url().optional(),
  /** Deliveries of one ingest message before it is FAILED (and, in AWS, left in the DLQ): = maxReceiveCount. */
  INGEST_MAX_ATTEMPTS: int(1, 100).default(5),
  /** Local worker: groups of jobs running at once. */
  INGEST_CONCURRENCY: int(1, 32).default(2),
  /** Local worker: jobs claimed as one group, whose chunks share embedding requests (the SQS batch in AWS). */
  INGEST_GROUP_SIZE: int(1, 100).default(16),
  /** Local worker: how long a partial group waits for more sources (SQS's batching window in AWS). */
  INGEST_GROUP_WINDOW_MS: int(0, 60_000).default(500),
  /**
   * Local worker: how long after it was queued a source may keep waiting out database or vector-store
   * outages without spending its attempts (after that an outage counts as an attempt).
   */
  INGEST_OUTAGE_RETRY_SECONDS: int(0, 7 * 86_400).default(3600),
  /**
   * The longest one source's ingestion may compute before it is FAILED with the reason (nothing stored). In
   * AWS the ingest function's remaining time less a margin applies when it is shorter.
   */
  INGEST_DEADLINE_SECONDS: int(1, 86_400).default(1800),

  VECTOR_STORE: z.enum(['pgvector', 'qdrant']).default('pgvector'),
  QDRANT_URL: z.string().url().optional(),
  QDRANT_API_KEY: z.string().optional(),
  QDRANT_API_KEY_SECRET_ARN: z.string().optional(),

  EMBEDDING_PROVIDER: z.enum(['offline', 'openai', 'bedrock']).optional(),
  EMBEDDING_MODEL: z.string().optional(),
  EMBEDDING_DIMENSIONS: int(8, 4096).optional(),
  EMBEDDING_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_API_KEY_SECRET_ARN: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_API_KEY_SECRET_ARN: z.string().optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  /** The region AWS gives a Lambda function (and a developer's shell may set). */
  AWS_REGION: z.string().optional(),
  /** Where Bedrock bots without a region of their own, Bedrock embeddings and reranking are served. */
  BEDROCK_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')
    .optional(),
  /**
   * The Bedrock model ids and inference profile ids bots may use (the deployment's IAM policy allows only
   * these); empty: any (local mode, where the developer's own credentials decide).
   */
  BEDROCK_MODELS: list.default([]),
  /** Operator-only endpoint overrides for the Bedrock runtime and agent runtime (a VPC endpoint, tests). */
  BEDROCK_ENDPOINT_URL: z.string().url().optional(),
  BEDROCK_AGENT_RUNTIME_ENDPOINT_URL: z.string().url().optional(),
  /** Cohere's own API, for bots that rerank with provider "cohere". */
  COHERE_API_KEY: z.string().optional(),
  COHERE_API_KEY_SECRET_ARN: z.string().optional(),
  COHERE_BASE_URL: z.string().url().optional(),

  CHUNK_TOKENS: int(64, 8192).default(512),
  CHUNK_OVERLAP_TOKENS: int(0, 1024).default(64),
  /** Largest file a tenant may add (direct uploads); the source's size is stored as a 32-bit integer. */
  MAX_UPLOAD_BYTES: int(1024, 2_000_000_000).default(100 * 1024 * 1024),
  /**
   * Largest file sent in the request itself (multipart `POST /v1/sources`, JSON content); unset: MAX_UPLOAD_BYTES.
   * In AWS a request must fit Lambda's 6 MB payload, so the stack sets 4 MB; larger files use direct uploads.
   */
  MAX_INLINE_UPLOAD_BYTES: int(1024, 2_000_000_000).optional(),
  /** How long an upload URL from POST /v1/sources/uploads is valid (S3 presigned URLs: 15 minutes at most). */
  UPLOAD_URL_SECONDS: int(1, 900).default(900),
  /** S3 bucket of uploaded originals (AWS); locally they are kept under MINIRAG_DATA_DIR/blobs. */
  BLOB_BUCKET: z.string().min(3).optional(),
  /**
   * What one document may cost to read (shared/rag/extract/limits.ts). A document beyond any of them is
   * FAILED at once with the limit in its reason, never retried.
   */
  EXTRACT_TIMEOUT_SECONDS: int(1, 900).default(60),
  /** V8 heap of the worker thread that reads a document. */
  EXTRACT_MAX_HEAP_MB: int(64, 8192).default(512),
  /** All compressed parts of a document (zip entries, PDF streams) together, unpacked. */
  EXTRACT_MAX_EXPANDED_MB: int(1, 4096).default(200),
  /** One compressed part, unpacked. */
  EXTRACT_MAX_ENTRY_MB: int(1, 4096).default(50),
  /** Unpacked/packed size of one part, once it is past 1 MB. */
  EXTRACT_MAX_COMPRESSION_RATIO: int(2, 100_000).default(100),
  EXTRACT_MAX_PAGES: int(1, 1_000_000).default(2_000),
  /** Elements open at once in an HTML page. */
  EXTRACT_MAX_HTML_DEPTH: int(8, 100_000).default(256),
  /** Characters of text extracted from one source. */
  EXTRACT_MAX_CHARS: int(1_000, 1_000_000_000).default(20_000_000),
  MAX_JSON_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  CORS_ORIGINS: list.default([]),
  /**
   * How long a streamed answer waits for the provider's first event before it starts the response anyway:
   * a failure within this time is still a plain HTTP error, a slower provider no longer leaves the client
   * with nothing at all (proxies and browsers give up on a silent request).
   */
  CHAT_FIRST_EVENT_GRACE_MS: int(0, 30_000).default(1500),
  /** Keep-alive comments on a quiet SSE stream, at most this far apart. */
  SSE_KEEPALIVE_MS: int(50, 60_000).default(10_000),
  /**
   * Saves a trace with each answer of a chat (GET /v1/chats/{chat_id}/messages/{message_id}/trace): the
   * rewrite, the candidates and their ranks, the context and the stage timings.
   */
  ANSWER_TRACES: bool.default(true),
  /** The deployment's stage: a dimension of every metric (set by the CDK stack). */
  MINIRAG_STAGE: z.string().min(1).default('local'),
  /** CloudWatch namespace of the functions' metrics (set by the CDK stack). */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('MiniRAG'),
  /** Lets bots point at http://localhost model servers (local mode only). */
  ALLOW_LOCAL_PROVIDER_URLS: bool.default(false),
});

export type Config = z.infer<typeof configSchema>;
