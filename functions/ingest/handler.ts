import { ingestDepsOf } from '#shared/composition/ingest-deps.ts';
import { createIngestApp } from './app.ts';
import { ingestPlatform } from './deps.ts';

const p = await ingestPlatform();

/** SQS event source (ReportBatchItemFailures) and the scheduled outbox sweep → the ingest pipeline. */
export const handler = createIngestApp({
  ...ingestDepsOf(p),
  maxAttempts: p.config.INGEST_MAX_ATTEMPTS,
  relayOutbox: () => p.ingestQueue.sweep(),
});
