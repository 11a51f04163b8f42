import type { Platform } from '../platform.ts';
import { type EmbeddingGroupMember, embeddingGroupsByTenant } from '../rag/embedding/index.ts';
import { type Job, outageRetryAllowed } from '../repositories/jobs.ts';
import { type IngestDeps, type IngestOutcome, ingestSource } from '../usecases/ingest-source.ts';

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

/**
 * The local job worker's handler: ingests a job's source, sharing embedding requests with the other jobs
 * of the tenant claimed in the same group.
 */
export function ingestJobHandler(
  deps: IngestDeps,
  /** INGEST_OUTAGE_RETRY_SECONDS: the job worker's `outageRetrySeconds`. */
  outageRetrySeconds: number,
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
      { number: job.attempts, isLast, outageIsFinal: isLast && !outageRetryAllowed(job, outageRetrySeconds) },
      deps,
      members[claimedWith.indexOf(job)],
    );
  };
}
