import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Logger } from '#shared/ports/logger.ts';
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
}

/**
 * The SQS batch handler: each record is one ingest message, processed on its own; failed records are
 * reported in `batchItemFailures` so only they are redelivered. A malformed body is logged and dropped
 * to the DLQ path (it fails every delivery), never retried as if it might succeed.
 */
export function createIngestApp(deps: IngestAppDeps) {
  const processor = new BatchProcessor(EventType.SQS);

  async function recordHandler(record: SQSRecord): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = IngestMessageSchema.safeParse(body);
    if (!parsed.success) {
      deps.logger.error('malformed ingest message', { messageId: record.messageId });
      throw new Error(`Malformed ingest message ${record.messageId}`);
    }
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const outcome = await ingestSource(
      parsed.data,
      { number: receiveCount, isLast: receiveCount >= deps.maxAttempts },
      deps,
    );
    // A final failure is recorded on the source as FAILED; failing the record too lets the DLQ keep it.
    if (outcome === 'failed') throw new Error(`Ingestion of source ${parsed.data.sourceId} failed`);
  }

  return async function handle(event: SQSEvent | { source: 'minirag.sweep' }): Promise<SQSBatchResponse> {
    if ('source' in event && event.source === 'minirag.sweep') {
      const relayed = (await deps.relayOutbox?.()) ?? 0;
      deps.logger.info('outbox sweep', { relayed });
      return { batchItemFailures: [] };
    }
    return processPartialResponse(event as SQSEvent, recordHandler, processor);
  };
}
