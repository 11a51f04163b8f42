import { ingestDepsOf } from '#shared/composition/ingest-deps.ts';
import { sweepAbandonedUploads } from '#shared/usecases/uploads.ts';
import { createIngestApp } from './app.ts';
import { ingestPlatform } from './deps.ts';

const p = await ingestPlatform();

/**
 * SQS event source (ReportBatchItemFailures) and the scheduled sweep (outbox relay, abandoned uploads) → the
 * ingest pipeline.
 */
export const handler = createIngestApp({
  ...ingestDepsOf(p),
  maxAttempts: p.config.INGEST_MAX_ATTEMPTS,
  deadlineSeconds: p.config.INGEST_DEADLINE_SECONDS,
  relayOutbox: () => p.ingestQueue.sweep(),
  sweepUploads: () => sweepAbandonedUploads(p),
});
