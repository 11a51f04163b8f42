import type { Config } from '../config/schema.ts';
import type { Platform } from '../platform.ts';
import { type EmbeddingGroupMember, embeddingGroupsByTenant } from '../rag/embedding/index.ts';
import type { ExtractLimits } from '../rag/extract/index.ts';
import { type Job, outageRetryAllowed } from '../repositories/jobs.ts';
import {
  failAbandonedIngest,
  type IngestDeps,
  type IngestOutcome,
  ingestSource,
} from '../usecases/ingest-source.ts';

/** What the ingest use case needs from a platform: the same in the ingest Lambda and the local worker. */
export function ingestDepsOf(p: Platform): IngestDeps {
  return {
    db: p.db,
    embedder: p.embedder,
    vectorStore: p.vectorStore,
    blobStore: p.blobStore,
    logger: p.logger,
    ...(p.metrics ? { metrics: p.metrics } : {}),
    chunking: { maxTokens: p.config.CHUNK_TOKENS, overlapTokens: p.config.CHUNK_OVERLAP_TOKENS },
    maxSourceBytes: p.config.MAX_UPLOAD_BYTES,
    extractLimits: extractLimitsOf(p.config),
  };
}

const MB = 1024 * 1024;

/** The extraction limits a deployment configured (shared/config/schema.ts documents each). */
export function extractLimitsOf(config: Config): ExtractLimits {
  return {
    timeoutMs: config.EXTRACT_TIMEOUT_SECONDS * 1000,
    maxHeapMb: config.EXTRACT_MAX_HEAP_MB,
    maxExpandedBytes: config.EXTRACT_MAX_EXPANDED_MB * MB,
    maxEntryBytes: config.EXTRACT_MAX_ENTRY_MB * MB,
    maxCompressionRatio: config.EXTRACT_MAX_COMPRESSION_RATIO,
    maxPages: config.EXTRACT_MAX_PAGES,
    maxHtmlDepth: config.EXTRACT_MAX_HTML_DEPTH,
    maxChars: config.EXTRACT_MAX_CHARS,
  };
}

/**
 * The local job worker's handler: ingests a job's source, sharing embedding requests with the other jobs
 * of the tenant claimed in the same group.
 */
export function ingestJobHandler(
  deps: IngestDeps,
  /** INGEST_OUTAGE_RETRY_SECONDS: the job worker's `outageRetrySeconds`. */
  outageRetrySeconds: number,
  /** INGEST_DEADLINE_SECONDS: each attempt's time, from when it starts. */
  deadlineSeconds?: number,
): (job: Job, claimedWith: readonly Job[]) => Promise<IngestOutcome> {
  const membersOf = new WeakMap<readonly Job[], EmbeddingGroupMember[]>();
  return (job, claimedWith) => {
    let members = membersOf.get(claimedWith);
    if (!members) {
      members = embeddingGroupsByTenant(
        claimedWith.map((j) => j.payload.tenantId),
        deps.embedder,
      );
      membersOf.set(claimedWith, members);
    }
    const isLast = job.attempts >= job.maxAttempts;
    return ingestSource(
      job.payload,
      {
        number: job.attempts,
        isLast,
        outageIsFinal: isLast && !outageRetryAllowed(job, outageRetrySeconds),
        ...(deadlineSeconds ? { deadline: Date.now() + deadlineSeconds * 1000 } : {}),
      },
      deps,
      members[claimedWith.indexOf(job)],
    );
  };
}

/** The local job worker's handler for a job whose process died during its last attempt. */
export function abandonedIngestHandler(deps: IngestDeps): (job: Job, reason: string) => Promise<void> {
  return (job, reason) => failAbandonedIngest(job.payload, reason, deps);
}
