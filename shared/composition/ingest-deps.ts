import type { Platform } from '../platform.ts';
import type { IngestDeps } from '../usecases/ingest-source.ts';

/** What the ingest use case needs from a platform: the same in the ingest Lambda and the local worker. */
export function ingestDepsOf(p: Platform): IngestDeps {
  return {
    db: p.db,
    embedder: p.embedder,
    vectorStore: p.vectorStore,
    logger: p.logger,
    chunking: { maxTokens: p.config.CHUNK_TOKENS, overlapTokens: p.config.CHUNK_OVERLAP_TOKENS },
    maxSourceBytes: p.config.MAX_UPLOAD_BYTES,
  };
}
