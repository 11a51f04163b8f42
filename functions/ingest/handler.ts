import { createIngestApp } from './app.ts';
import { ingestPlatform } from './deps.ts';

const p = await ingestPlatform();

/** SQS event source (ReportBatchItemFailures) and the scheduled outbox sweep → the ingest pipeline. */
export const handler = createIngestApp({
  db: p.db,
  embedder: p.embedder,
  vectorStore: p.vectorStore,
  logger: p.logger,
  chunking: { maxTokens: p.config.CHUNK_TOKENS, overlapTokens: p.config.CHUNK_OVERLAP_TOKENS },
  maxSourceBytes: p.config.MAX_UPLOAD_BYTES,
  maxAttempts: p.config.INGEST_MAX_ATTEMPTS,
  relayOutbox: () => p.ingestQueue.sweep(),
});
