/**
 * The price table `npm run cost` multiplies the synthesized template by.
 *
 * On-demand list prices for us-east-1 in USD, read from the AWS pricing pages on 2026-12-01. Other
 * regions differ by a few percent to ~30% (e.g. eu-west-1 ≈ 1.1×, ap-south-1 ≈ 1.15×, sa-east-1 ≈ 1.5×):
 * pass `--region-factor` to scale every figure. Free tiers are left out on purpose: an estimate that
 * counts them would show a second deployment in the same account as free when it is not.
 */
export const PRICES_READ_ON = '2026-12-01';
export const PRICES_REGION = 'us-east-1';

/** Hours in the average month (AWS bills hourly resources on 730 h). */
export const HOURS_PER_MONTH = 730;

export const PRICES = {
  /** NAT gateway: per hour (data processing, USD 0.045/GB, is per use and left to the traffic figures). */
  natGatewayHour: 0.045,
  /** Interface VPC endpoint: per AZ-hour. */
  interfaceEndpointAzHour: 0.01,
  /** Aurora Serverless v2 (Aurora Standard): per ACU-hour. */
  auroraAcuHour: 0.12,
  /** Aurora storage: per GB-month (a new cluster holds ~1 GB). */
  auroraStorageGbMonth: 0.1,
  /** Aurora Standard I/O: per million requests. */
  auroraIoMillion: 0.2,
  /** RDS Proxy for Aurora Serverless v2: per ACU-hour, billed on at least 8 ACUs. */
  rdsProxyAcuHour: 0.015,
  rdsProxyMinimumAcus: 8,
  /** RDS Data API: per million requests (the first billion a month). */
  dataApiMillion: 0.35,
  /** Secrets Manager: per secret-month, and per 10,000 API calls. */
  secretMonth: 0.4,
  secretsApi10k: 0.05,
  /** KMS: per customer-managed key-month, and per 10,000 requests. */
  kmsKeyMonth: 1,
  kmsRequests10k: 0.03,
  /** CloudWatch: per dashboard-month and per standard-resolution metric alarm-month. */
  dashboardMonth: 3,
  alarmMonth: 0.1,
  /** API Gateway HTTP API: per million requests (the first 300 million a month). */
  httpApiMillion: 1,
  /** Lambda: per million requests and per GB-second (arm64; x86_64 costs 0.0000166667). */
  lambdaRequestMillion: 0.2,
  lambdaArmGbSecond: 0.0000133334,
  lambdaX86GbSecond: 0.0000166667,
  /** SQS standard queue: per million requests (send, receive and delete each count). */
  sqsMillion: 0.4,
  /** S3 Standard: per 1,000 PUT and per 1,000 GET requests, per GB-month. */
  s3Put1k: 0.005,
  s3Get1k: 0.0004,
  s3GbMonth: 0.023,
  /** EventBridge scheduled rules: invocations of Lambda targets are free; the Lambda runs are not. */
} as const;

/**
 * How much work one request of each kind does. These are the platform's own figures (docs/performance.md),
 * rounded up; model and embedding tokens are billed by the provider and are not part of this estimate.
 */
export const WORKLOAD = {
  api: {
    /** Billed duration of a warm API request (auth + one list or write). */
    lambdaSeconds: 0.05,
    /** Database round trips of one request (the Data API bills each statement and transaction call). */
    databaseCalls: 4,
  },
  chat: {
    /** Billed duration of a streamed answer: mostly waiting on the model's tokens. */
    lambdaSeconds: 8,
    databaseCalls: 12,
    /** Decrypting a bot's own credentials (cached per container; one in ten answers is a cold read). */
    kmsRequests: 0.1,
  },
  ingest: {
    /** Billed ingest duration per chunk (extraction, chunking, waiting on the embedding API). */
    lambdaSecondsPerChunk: 0.05,
    /** A source yields ~40 chunks on average; queue and database work is per source. */
    chunksPerSource: 40,
    /** Per source: send, receive, delete. */
    sqsRequestsPerSource: 3,
    databaseCallsPerSource: 10,
    /** Per source: the original is written once and read once (direct uploads). */
    s3PutsPerSource: 1,
    s3GetsPerSource: 1,
  },
  /** One run of the ingest function's outbox sweep (its schedule comes from the template). */
  sweep: { lambdaSeconds: 0.2, databaseCalls: 3 },
} as const;
