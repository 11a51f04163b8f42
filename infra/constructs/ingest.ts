import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from './app-function.ts';
import type { FunctionBundleSpec } from './function-bundle.ts';
import type { FunctionDefaults } from './function-defaults.ts';

export interface IngestProps {
  readonly defaults: FunctionDefaults;
  /** The handler module (functions/ingest/handler.ts). */
  /** What the function's asset is built from (function-bundle.ts). */
  readonly bundle: FunctionBundleSpec;
  readonly stage: string;
  /** Messages per invocation. */
  readonly batchSize: number;
  /** Largest original a source may have (MAX_UPLOAD_BYTES, as the api accepts it). */
  readonly maxUploadBytes: number;
  /** How long SQS may wait to fill a batch, so sources uploaded together are ingested (and embedded) together. */
  readonly batchWindowSeconds: number;
  /** Most concurrent invocations the queue may drive (keeps the embedding provider under its rate limit). */
  readonly maxConcurrency: number;
  /** How often the outbox sweep runs (each run reads the database). */
  readonly outboxSweepInterval: Duration;
  /** Whether to alarm on dead-lettered messages (part of the stack's optional monitoring). */
  readonly alarms: boolean;
}

/** Deliveries before a message goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
export const INGEST_TIMEOUT = Duration.minutes(5);

/**
 * `/tmp` for one invocation: each source of a batch streams its original there while it is read, so a batch
 * of the largest files must fit (plus room for the runtime), within Lambda's 512–10,240 MiB.
 */
export function ingestEphemeralStorageMb(batchSize: number, maxUploadBytes: number): number {
  const needed = Math.ceil((batchSize * maxUploadBytes) / (1024 * 1024)) + 64;
  return Math.min(10_240, Math.max(512, needed));
}

/**
 * The ingestion pipeline's queue: SQS with SSE, a dead-letter queue after MAX_RECEIVE_COUNT deliveries, and the
 * ingest function consuming it in small batches with partial batch failures (one bad source never re-runs the
 * others), plus a schedule that relays the api's outbox (jobs committed but not yet sent). The visibility timeout is six times the function timeout, as AWS advises for Lambda consumers, so a
 * message is never redelivered while an invocation still works on it.
 */
export class Ingest extends Construct {
  readonly function: AppFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly dlqAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { defaults } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(INGEST_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.function = new AppFunction(this, 'Handler', {
      ...defaults,
      ...props.bundle,
      serviceName: 'minirag-ingest',
      description: 'MiniRAG ingestion: extract, chunk, embed and index queued sources',
      timeout: INGEST_TIMEOUT,
      // PDF/DOCX extraction and embedding batches are memory-hungry; more memory also buys CPU.
      memorySize: 2048,
      ephemeralStorageMb: ingestEphemeralStorageMb(props.batchSize, props.maxUploadBytes),
      environment: {
        // The same limit as the api's: a file it accepted is never refused here as too large.
        MAX_UPLOAD_BYTES: String(props.maxUploadBytes),
        // The app marks a source FAILED on the delivery that will not be retried.
        INGEST_MAX_ATTEMPTS: String(MAX_RECEIVE_COUNT),
        // The outbox sweep re-sends jobs the api committed but could not hand to SQS.
        QUEUE_URL: this.queue.queueUrl,
      },
    });
    this.queue.grantSendMessages(this.function.function);
    this.function.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        ...(props.batchWindowSeconds > 0
          ? { maxBatchingWindow: Duration.seconds(props.batchWindowSeconds) }
          : {}),
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    new events.Rule(this, 'OutboxSweep', {
      description: `MiniRAG ${props.stage}: relay ingest jobs whose SQS send failed`,
      schedule: events.Schedule.rate(props.outboxSweepInterval),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          event: events.RuleTargetInput.fromObject({ source: 'minirag.sweep' }),
          retryAttempts: 0,
        }),
      ],
    });

    if (!props.alarms) return;
    this.dlqAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueDepth', {
      alarmDescription: `MiniRAG ${props.stage}: ingestion messages landed in the dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
