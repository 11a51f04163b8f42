import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Logger } from '#shared/ports/logger.ts';
import { type EmbeddingGroupMember, embeddingGroupsByTenant } from '#shared/rag/embedding/index.ts';
import { type IngestDeps, ingestSource } from '#shared/usecases/ingest-source.ts';

const IngestMessageSchema = z.object({
  tenantId: z.uuid(),
  sourceId: z.uuid(),
  version: z.number().int().positive(),
});

export interface IngestAppDeps extends IngestDeps {
  readonly logger: Logger;
  /** = the queue's maxReceiveCount: on that delivery a failure is final (FAILED, then the DLQ). */
  readonly maxAttempts: number;
  /** Relays outbox rows whose SQS send failed earlier (run on the scheduled sweep). */
  readonly relayOutbox?: () => Promise<number>;
  /** Removes uploads never completed after 24 hours, with their stored files (run on the scheduled sweep). */
  readonly sweepUploads?: () => Promise<number>;
  /** INGEST_DEADLINE_SECONDS: an ingestion's time when it is shorter than what the invocation has left. */
  readonly deadlineSeconds?: number;
}

/**
 * Time kept back from the invocation's remaining time for what runs after the deadline: storing a finished
 * source's vectors and chunks, or recording a FAILED one. At most a fifth of the time left, for short timeouts.
 */
export const DEADLINE_MARGIN_MS = 30_000;

/**
 * When this invocation's ingestions must stop computing (epoch ms): the Lambda's remaining time less the
 * margin, so a document too slow to embed ends FAILED with a reason instead of timing the function out and
 * coming back on every delivery until the DLQ.
 */
export function ingestDeadlineOf(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  deadlineSeconds: number | undefined,
  now: number = Date.now(),
): number | undefined {
  const limits: number[] = [];
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining !== undefined && Number.isFinite(remaining)) {
    limits.push(now + remaining - Math.min(DEADLINE_MARGIN_MS, remaining / 5));
  }
  if (deadlineSeconds !== undefined) limits.push(now + deadlineSeconds * 1000);
  return limits.length ? Math.min(...limits) : undefined;
}

type IngestMessage = z.infer<typeof IngestMessageSchema>;

function parseMessage(record: SQSRecord): IngestMessage | undefined {
  try {
    return IngestMessageSchema.parse(JSON.parse(record.body));
  } catch {
    return undefined;
  }
}

/**
 * The SQS batch handler: each record is one ingest message, and the batch's records run in parallel with
 * each tenant's chunks sharing embedding requests (up to 128 texts whichever source they come from);
 * failed records are reported in `batchItemFailures` so only they are redelivered. A malformed body is
 * logged and dropped to the DLQ path (it fails every delivery), never retried as if it might succeed.
 */
export function createIngestApp(deps: IngestAppDeps) {
  const processor = new BatchProcessor(EventType.SQS);

  async function ingestRecord(
    record: SQSRecord,
    message: IngestMessage | undefined,
    embedding: EmbeddingGroupMember | undefined,
    deadline: number | undefined,
  ): Promise<void> {
    if (!message) {
      deps.logger.error('malformed ingest message', { messageId: record.messageId });
      throw new Error(`Malformed ingest message ${record.messageId}`);
    }
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const isLast = receiveCount >= deps.maxAttempts;
    // SQS counts every delivery, so an outage cannot be kept off the count: it is retried (a batch item
    // failure, redelivered after the visibility timeout) on every delivery but the last, never FAILED before.
    const outcome = await ingestSource(
      message,
      { number: receiveCount, isLast, outageIsFinal: isLast, ...(deadline ? { deadline } : {}) },
      deps,
      embedding,
    );
    // A final failure is recorded on the source as FAILED; failing the record too lets the DLQ keep it. A
    // rejected document (unreadable, beyond an extraction limit or the deadline) is FAILED too, but its record succeeds:
    // redelivering it could only spend the same resources on the same answer.
    if (outcome === 'failed') throw new Error(`Ingestion of source ${message.sourceId} failed`);
  }

  return async function handle(
    event: SQSEvent | { source: 'minirag.sweep' },
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SQSBatchResponse> {
    if ('source' in event && event.source === 'minirag.sweep') {
      const relayed = (await deps.relayOutbox?.()) ?? 0;
      const abandonedUploads = (await deps.sweepUploads?.()) ?? 0;
      deps.logger.info('outbox sweep', { relayed, abandonedUploads });
      return { batchItemFailures: [] };
    }
    const deadline = ingestDeadlineOf(context, deps.deadlineSeconds);
    const records = (event as SQSEvent).Records;
    const messages = new Map(records.map((r) => [r.messageId, parseMessage(r)]));
    const valid = records.filter((r) => messages.get(r.messageId));
    const members = embeddingGroupsByTenant(
      valid.map((r) => messages.get(r.messageId)!.tenantId),
      deps.embedder,
    );
    const memberOf = new Map(valid.map((r, i) => [r.messageId, members[i]]));
    try {
      return await processPartialResponse(
        event as SQSEvent,
        (record: SQSRecord) =>
          ingestRecord(record, messages.get(record.messageId), memberOf.get(record.messageId), deadline),
        processor,
        // Every record of a tenant must reach the embedding step for its group's last batch to go out at once.
        { processInParallel: true },
      );
    } finally {
      // One EMF document per batch.
      deps.metrics?.publish();
    }
  };
}
