import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { Api } from '../constructs/api.ts';
import type { AppFunction } from '../constructs/app-function.ts';
import { grantBedrockModels } from '../constructs/bedrock-access.ts';
import { ChatStream } from '../constructs/chat-stream.ts';
import { Database } from '../constructs/database.ts';
import { type FunctionName, functionBundle } from '../constructs/function-bundle.ts';
import type { FunctionDefaults } from '../constructs/function-defaults.ts';
import { Ingest } from '../constructs/ingest.ts';
import { Keys } from '../constructs/keys.ts';
import { databaseEnv, Migrations } from '../constructs/migrations.ts';
import { Observability } from '../constructs/observability.ts';
import { Originals } from '../constructs/originals.ts';
import { Secrets } from '../constructs/secrets.ts';

export interface MiniRagStackProps extends StackProps {
  readonly config: DeployConfig;
  /** Repository root (where package.json and package-lock.json live). */
  readonly projectRoot: string;
}

interface FunctionAccess {
  /** Env var name → the secret whose ARN it carries; the function may read exactly these. */
  readonly secrets: Record<string, secretsmanager.ISecret | undefined>;
  /** What the function may do with the bot-credentials key; `none` for a function that never opens credentials. */
  readonly kms: 'encrypt-and-decrypt' | 'decrypt' | 'none';
  /** The Bedrock models (ids, profile ids) the function may invoke. */
  readonly bedrockModels: readonly string[];
}

/** MiniRAG on AWS: the stack only wires the constructs of infra/constructs together. */
export class MiniRagStack extends Stack {
  readonly keys: Keys;
  readonly secrets: Secrets;
  readonly database: Database;
  readonly api: Api;
  readonly ingest: Ingest;
  readonly chatStream: ChatStream;
  readonly migrations: Migrations;
  readonly originals: Originals;
  /** Alarms and dashboard; absent unless the `monitoring` context is on (the default for stage "prod"). */
  readonly observability?: Observability;

  constructor(scope: Construct, id: string, props: MiniRagStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prod = config.stage === 'prod';
    const bundle = (name: FunctionName) => functionBundle(props.projectRoot, name);
    Tags.of(this).add('app', 'minirag');
    Tags.of(this).add('stage', config.stage);

    this.keys = new Keys(this, 'Keys', { stage: config.stage });
    this.secrets = new Secrets(this, 'Secrets', {
      stage: config.stage,
      qdrant: config.vectorStore === 'qdrant',
      thirdPartyKeys: config.thirdPartyKeys,
      cohere: config.cohereRerank,
    });
    this.database = new Database(this, 'Database', {
      stage: config.stage,
      mode: config.databaseMode,
      existingSecretArn: config.databaseSecretArn,
      deletionProtection: config.deletionProtection,
      minCapacity: config.auroraMinCapacity,
      maxCapacity: config.auroraMaxCapacity,
      autoPause: Duration.seconds(config.auroraAutoPauseSeconds),
      natGateways: config.natGateways,
      logRetention: config.logRetention,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.originals = new Originals(this, 'Originals', {
      key: this.keys.credentialsKey,
      corsOrigins: config.corsOrigins,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const defaults: FunctionDefaults = {
      projectRoot: props.projectRoot,
      stage: config.stage,
      logLevel: config.logLevel,
      logRetention: config.logRetention,
      logRemovalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      network: this.database.network,
    };
    this.ingest = new Ingest(this, 'Ingest', {
      defaults,
      bundle: bundle('ingest'),
      stage: config.stage,
      batchSize: config.ingestBatchSize,
      maxUploadBytes: config.maxUploadBytes,
      batchWindowSeconds: config.ingestBatchWindowSeconds,
      maxConcurrency: config.ingestMaxConcurrency,
      outboxSweepInterval: Duration.minutes(config.outboxSweepMinutes),
      alarms: config.monitoring,
    });
    this.api = new Api(this, 'Api', {
      defaults,
      bundle: bundle('api'),
      stage: config.stage,
      corsOrigins: config.corsOrigins,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      maxUploadBytes: config.maxUploadBytes,
      reservedConcurrency: config.reservedConcurrency,
      queue: this.ingest.queue,
    });
    this.chatStream = new ChatStream(this, 'ChatStream', {
      defaults,
      bundle: bundle('chat-stream'),
      corsOrigins: config.corsOrigins,
      authType: config.chatAuth,
      reservedConcurrency: config.reservedConcurrency,
    });
    this.migrations = new Migrations(this, 'Migrations', {
      defaults,
      bundle: bundle('migrate'),
      database: this.database,
    });

    const bedrockRegion = config.bedrockRegion ?? this.region;
    const usesBedrock = config.bedrockModels.length > 0 || config.embeddingProvider === 'bedrock';
    const runtimeEnv: Record<string, string> = {
      VECTOR_STORE: config.vectorStore,
      ...(config.qdrantUrl ? { QDRANT_URL: config.qdrantUrl } : {}),
      EMBEDDING_PROVIDER: config.embeddingProvider,
      EMBEDDING_MODEL: config.embeddingModel,
      EMBEDDING_DIMENSIONS: String(config.embeddingDimensions),
      KMS_KEY_ID: this.keys.credentialsKey.keyArn,
      ...databaseEnv(this.database),
      ...(usesBedrock ? { BEDROCK_REGION: bedrockRegion } : {}),
      ...(config.bedrockModels.length ? { BEDROCK_MODELS: config.bedrockModels.join(',') } : {}),
    };
    // Bots may use the listed Bedrock models; everything that embeds needs the embedding model.
    const embeddingModels = config.embeddingProvider === 'bedrock' ? [config.embeddingModel] : [];
    const embeddingKey = config.embeddingProvider === 'openai' ? this.secrets.openaiApiKey : undefined;
    const wire = (fn: AppFunction, access: FunctionAccess) => {
      for (const [name, value] of Object.entries(runtimeEnv)) fn.function.addEnvironment(name, value);
      for (const [name, secret] of Object.entries(access.secrets)) {
        if (!secret) continue;
        fn.function.addEnvironment(name, secret.secretArn);
        secret.grantRead(fn.function);
      }
      if (fn.function.role && access.kms !== 'none')
        this.keys.allowCredentialUse(fn.function.role, access.kms);
      if (fn.function.role) grantBedrockModels(fn.function.role, access.bedrockModels, bedrockRegion);
      this.database.grantDataApi(fn.function);
    };
    // The api writes bot credentials (GenerateDataKey), enqueues ingestion and deletes vectors of deleted sources;
    // its platform builds the embedder too (the embedding space names the vector collection).
    wire(this.api.function, {
      secrets: {
        DATABASE_SECRET_ARN: this.database.secret,
        JWT_SIGNING_KEY_SECRET_ARN: this.secrets.jwtSigningKey,
        ADMIN_TOKEN_SECRET_ARN: this.secrets.adminToken,
        QDRANT_API_KEY_SECRET_ARN: this.secrets.qdrantApiKey,
        OPENAI_API_KEY_SECRET_ARN: embeddingKey,
      },
      kms: 'encrypt-and-decrypt',
      // The API app answers questions too (as JSON, behind API Gateway); Bedrock needs no secret.
      bedrockModels: [...config.bedrockModels, ...embeddingModels],
    });
    // Ingest embeds with the platform's embedding key and writes vectors. It never opens a bot's
    // credentials (embeddings always use the platform key), so it gets no use of the credentials key.
    wire(this.ingest.function, {
      secrets: {
        DATABASE_SECRET_ARN: this.database.secret,
        QDRANT_API_KEY_SECRET_ARN: this.secrets.qdrantApiKey,
        OPENAI_API_KEY_SECRET_ARN: embeddingKey,
      },
      kms: 'none',
      bedrockModels: embeddingModels,
    });
    // Chat authenticates users, embeds the query, retrieves and calls the bot's model.
    wire(this.chatStream.function, {
      secrets: {
        DATABASE_SECRET_ARN: this.database.secret,
        JWT_SIGNING_KEY_SECRET_ARN: this.secrets.jwtSigningKey,
        QDRANT_API_KEY_SECRET_ARN: this.secrets.qdrantApiKey,
        OPENAI_API_KEY_SECRET_ARN: this.secrets.openaiApiKey,
        ANTHROPIC_API_KEY_SECRET_ARN: this.secrets.anthropicApiKey,
        COHERE_API_KEY_SECRET_ARN: this.secrets.cohereApiKey,
      },
      kms: 'decrypt',
      bedrockModels: [...config.bedrockModels, ...embeddingModels],
    });

    // Uploaded originals: the api presigns PUTs and checks them (HEAD), ingest reads and deletes them.
    for (const fn of [this.api.function, this.ingest.function]) {
      fn.function.addEnvironment('BLOB_BUCKET', this.originals.bucket.bucketName);
    }
    this.originals.grantUpload(this.api.function.function);
    this.originals.grantReadAndDelete(this.ingest.function.function);

    if (config.monitoring) {
      this.observability = new Observability(this, 'Observability', {
        stage: config.stage,
        functions: [
          { name: 'api', function: this.api.function.function },
          { name: 'ingest', function: this.ingest.function.function },
          { name: 'chat-stream', function: this.chatStream.function.function },
          { name: 'migrate', function: this.migrations.function.function },
        ],
        httpApi: this.api.httpApi,
        queue: this.ingest.queue,
        deadLetterQueue: this.ingest.deadLetterQueue,
        extraAlarms: this.ingest.dlqAlarm ? [this.ingest.dlqAlarm] : [],
        alarmEmail: config.alarmEmail,
      });
    }

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.url, 'Base URL of the REST API (npx minirag --api-url <ApiUrl> …)');
    output('ChatStreamUrl', this.chatStream.url.url, 'Function URL that streams chat answers (SSE)');
    output('OriginalsBucket', this.originals.bucket.bucketName, 'S3 bucket of uploaded originals');
    output('QueueUrl', this.ingest.queue.queueUrl, 'Ingestion queue');
    output('DlqUrl', this.ingest.deadLetterQueue.queueUrl, 'Ingestion dead-letter queue');
    output(
      'AdminTokenSecretArn',
      this.secrets.adminToken.secretArn,
      'Secret holding the platform admin token',
    );
    output(
      'DatabaseSecretArn',
      this.database.secret.secretArn,
      'Database secret (RDS JSON or postgres:// URL)',
    );
    output(
      'MigrateFunctionName',
      this.migrations.function.function.functionName,
      'Run by hand after filling an external database URL',
    );
    if (this.secrets.openaiApiKey) {
      output(
        'OpenaiApiKeySecretArn',
        this.secrets.openaiApiKey.secretArn,
        'Fill in: platform OpenAI API key',
      );
    }
    if (this.secrets.anthropicApiKey) {
      output(
        'AnthropicApiKeySecretArn',
        this.secrets.anthropicApiKey.secretArn,
        'Fill in: platform Anthropic API key',
      );
    }
    if (this.secrets.cohereApiKey) {
      output(
        'CohereApiKeySecretArn',
        this.secrets.cohereApiKey.secretArn,
        'Fill in: Cohere API key (reranking)',
      );
    }
    if (this.secrets.qdrantApiKey) {
      output('QdrantApiKeySecretArn', this.secrets.qdrantApiKey.secretArn, 'Fill in: Qdrant Cloud API key');
    }
    if (this.observability) {
      output('DashboardUrl', this.observability.dashboardUrl, 'CloudWatch dashboard');
      output('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'SNS topic the alarms notify');
    }
  }
}
