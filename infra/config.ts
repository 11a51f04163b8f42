import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';

/**
 * Deployment settings, read from CDK context (`-c key=value` or the `context` block of cdk.json).
 * Values given on the command line arrive as strings, values in cdk.json as JSON, so every number,
 * boolean and list below accepts both.
 */

const truthy = ['true', '1', 'yes'];
const falsy = ['false', '0', 'no'];

const bool = z.preprocess(
  (v) =>
    typeof v === 'string' && [...truthy, ...falsy].includes(v.toLowerCase())
      ? truthy.includes(v.toLowerCase())
      : v,
  z.boolean({ error: 'must be true or false' }),
);

const num = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), schema);
const int = (min: number, max: number) =>
  num(
    // The type message only for a type problem: a schema-wide message would also replace the range ones.
    z
      .number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a number' : undefined) })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

/** The largest file a direct upload may carry (the size is kept as a 32-bit integer). */
export const MAX_DIRECT_UPLOAD_BYTES = 2_000_000_000;

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );

const retentionValues = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

const origin = z
  .string()
  .refine(
    (v) => v === '*' || /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(v),
    'each origin must be "*" or scheme://host[:port] with no path, e.g. https://app.example.com',
  );

const https = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' });

export const contextSchema = z.object({
  /** Short name of the deployment; prefixes the stack name (`MiniRag-<stage>`). */
  stage: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,19}$/,
      'must be 1-20 lower-case letters, digits or dashes, starting with a letter',
    )
    .default('dev'),
  /** Target region; defaults to the CLI profile's region (CDK_DEFAULT_REGION). */
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  /** Target account; defaults to the CLI profile's account (CDK_DEFAULT_ACCOUNT). */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),

  /**
   * serverless: Aurora Serverless v2 that pauses when idle, reached through the RDS Data API (no VPC for the
   * functions, no NAT gateway, no RDS Proxy). aurora: always-on Aurora behind RDS Proxy in a VPC, for steady
   * traffic. external: a PostgreSQL server run elsewhere.
   */
  databaseMode: z
    .enum(['serverless', 'aurora', 'external'], { error: 'must be "serverless", "aurora" or "external"' })
    .default('serverless'),
  /** serverless mode: idle seconds before the cluster pauses (Aurora allows 300 to 86,400). */
  auroraAutoPauseSeconds: int(300, 86_400).default(300),
  /** external mode: an existing secret holding the postgres:// URL (otherwise one is created to fill in). */
  databaseSecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    )
    .optional(),
  /** aurora mode: deletion protection on the cluster; defaults to true for stage "prod". */
  deletionProtection: bool.optional(),
  auroraMinCapacity: num(z.number({ error: 'must be a number' }).min(0.5).max(256).multipleOf(0.5)).default(
    0.5,
  ),
  auroraMaxCapacity: num(z.number({ error: 'must be a number' }).min(1).max(256).multipleOf(0.5)).default(4),
  /** aurora mode: NAT gateways for the functions' internet egress (1 is cheapest, one per AZ is HA). */
  natGateways: int(1, 3).default(1),

  /** Defaults to qdrant when qdrantUrl is set, pgvector otherwise. */
  vectorStore: z.enum(['qdrant', 'pgvector'], { error: 'must be "qdrant" or "pgvector"' }).optional(),
  qdrantUrl: https.optional(),

  embeddingProvider: z
    .enum(['openai', 'offline', 'bedrock'], { error: 'must be "openai", "offline" or "bedrock"' })
    .default('openai'),
  embeddingModel: z.string().min(1).default('text-embedding-3-small'),
  embeddingDimensions: int(8, 4096).default(1536),

  /**
   * Amazon Bedrock model ids and cross-region inference profile ids (`us.anthropic.claude-…`) the bots may
   * use, rerank models included (`amazon.rerank-v1:0`). The functions may invoke exactly these.
   */
  bedrockModels: list(
    z.string().regex(/^[\w.:/-]{3,300}$/, 'each must be a Bedrock model id, profile id or ARN'),
  ).default([]),
  /** Where Bedrock is called; defaults to the stack's region. */
  bedrockRegion: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  /**
   * Platform key secrets for OpenAI and Anthropic. false: none are created, for a deployment that uses only
   * Bedrock (with embeddingProvider bedrock or offline).
   */
  thirdPartyKeys: bool.default(true),
  /** A secret for Cohere's API key, for bots that rerank with provider "cohere". */
  cohereRerank: bool.default(false),

  corsOrigins: list(origin).default([]),
  logRetentionDays: num(z.number({ error: 'must be a number' }))
    .refine((v) => retentionValues.includes(v as number), {
      error: `must be one of the CloudWatch Logs retention periods: ${retentionValues.join(', ')}`,
    })
    .default(30),
  logLevel: z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be DEBUG, INFO, WARN or ERROR' })
    .default('INFO'),
  alarmEmail: z.email({ error: 'must be an e-mail address' }).optional(),
  /** CloudWatch alarms and the dashboard (fixed monthly cost); defaults to true for stage "prod" only. */
  monitoring: bool.optional(),
  /**
   * Minutes between runs of the outbox sweep (resends ingest jobs whose queue send failed). Every run reads
   * the database, which wakes a paused serverless cluster, so that mode defaults to 6 hours, the others to 5
   * minutes.
   */
  outboxSweepMinutes: int(1, 1440).optional(),

  /** Reserved concurrency of the api and chat-stream functions each (unset: share the account pool). */
  reservedConcurrency: int(1, 10_000).optional(),
  /** SQS messages per ingest invocation; a tenant's sources in one batch share embedding requests. */
  ingestBatchSize: int(1, 100).default(10),
  /** Seconds SQS may wait to fill a batch (0: no wait); needed above 10 messages. */
  ingestBatchWindowSeconds: int(0, 300).default(2),
  /** Most concurrent ingest invocations, so the embedding provider is not flooded (SQS minimum is 2). */
  ingestMaxConcurrency: int(2, 1000).default(2),
  apiThrottleRateLimit: int(1, 10_000).default(50),
  apiThrottleBurstLimit: int(1, 5_000).default(100),
  /**
   * Largest file a tenant may add. Files go straight to S3 through presigned URLs, so this is not bound by
   * Lambda's payload (multipart `POST /v1/sources` still is: 4 MB); the ingest function reads the whole file
   * into memory, so keep it well under the ingest function's 2,048 MB.
   */
  maxUploadBytes: int(1024, MAX_DIRECT_UPLOAD_BYTES).default(100 * 1024 * 1024),
  /** Auth of the chat-stream function URL: NONE (the app checks the bearer token) or AWS_IAM (SigV4). */
  chatAuth: z.enum(['NONE', 'AWS_IAM'], { error: 'must be "NONE" or "AWS_IAM"' }).default('NONE'),
});

export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof typeof contextSchema.shape)[];

type Parsed = z.infer<typeof contextSchema>;

export type DeployConfig = Omit<
  Parsed,
  'vectorStore' | 'deletionProtection' | 'logRetentionDays' | 'monitoring' | 'outboxSweepMinutes'
> & {
  readonly vectorStore: 'qdrant' | 'pgvector';
  readonly deletionProtection: boolean;
  readonly monitoring: boolean;
  readonly outboxSweepMinutes: number;
  readonly logRetention: RetentionDays;
};

export class ContextError extends Error {
  override readonly name = 'ContextError';
}

/** Reads and validates the deployment settings; `read(key)` is usually `(k) => app.node.tryGetContext(k)`. */
export function loadDeployConfig(read: (key: string) => unknown): DeployConfig {
  const raw = Object.fromEntries(
    CONTEXT_KEYS.map((key) => [key, read(key)]).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = contextSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const topKey = String(issue.path[0] ?? key);
      const given = topKey in raw ? ` (got ${JSON.stringify(raw[topKey])})` : '';
      return `  -c ${key}: ${issue.message}${given}`;
    });
    throw new ContextError(`Invalid CDK context:\n${problems.join('\n')}`);
  }
  const { vectorStore, deletionProtection, logRetentionDays, monitoring, outboxSweepMinutes, ...rest } =
    result.data;
  const config: DeployConfig = {
    ...rest,
    vectorStore: vectorStore ?? (rest.qdrantUrl ? 'qdrant' : 'pgvector'),
    deletionProtection: deletionProtection ?? rest.stage === 'prod',
    monitoring: monitoring ?? rest.stage === 'prod',
    outboxSweepMinutes: outboxSweepMinutes ?? (rest.databaseMode === 'serverless' ? 360 : 5),
    logRetention: logRetentionDays as RetentionDays,
  };
  const problems: string[] = [];
  if (config.vectorStore === 'qdrant' && !config.qdrantUrl) {
    problems.push('  -c qdrantUrl: required when vectorStore=qdrant');
  }
  if (config.databaseSecretArn && config.databaseMode !== 'external') {
    problems.push(
      '  -c databaseSecretArn: only used with databaseMode=external (aurora generates its own secret)',
    );
  }
  if (config.alarmEmail && !config.monitoring) {
    problems.push('  -c alarmEmail: needs monitoring=true (alarms are off by default outside stage "prod")');
  }
  if (config.auroraMinCapacity > config.auroraMaxCapacity) {
    problems.push('  -c auroraMinCapacity: must not exceed auroraMaxCapacity');
  }
  if (config.ingestBatchSize > 10 && config.ingestBatchWindowSeconds === 0) {
    problems.push(
      '  -c ingestBatchSize: above 10 needs ingestBatchWindowSeconds of at least 1 (an SQS rule)',
    );
  }
  if (config.embeddingProvider === 'bedrock') {
    if (!/^(amazon\.titan-embed-text-v2|cohere\.embed-)/.test(config.embeddingModel)) {
      problems.push(
        '  -c embeddingModel: with embeddingProvider=bedrock, amazon.titan-embed-text-v2:0 or a cohere.embed-… model',
      );
    }
  }
  if (!config.thirdPartyKeys && config.embeddingProvider === 'openai') {
    problems.push(
      '  -c thirdPartyKeys: false needs embeddingProvider bedrock or offline (OpenAI embeddings need its key)',
    );
  }
  if (problems.length > 0) throw new ContextError(`Invalid CDK context:\n${problems.join('\n')}`);
  return config;
}
