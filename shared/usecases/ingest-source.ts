import { createHash } from 'node:crypto';
import { sourceBlobPrefix } from '../domain/blob-key.ts';
import { errorLogFields } from '../domain/error-log.ts';
import {
  DocumentLimitError,
  DomainError,
  IngestDeadlineError,
  IngestRetryableError,
  serviceUnavailableIn,
  UnsupportedMediaTypeError,
  UnusableSourceError,
  ValidationError,
} from '../domain/errors.ts';
import { asTenantId, type TenantId } from '../domain/ids.ts';
import { pointId } from '../domain/point-id.ts';
import type { Source } from '../domain/source.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Database } from '../ports/database.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { IngestMessage } from '../ports/ingest-queue.ts';
import type { Logger } from '../ports/logger.ts';
import { type Metrics, noMetrics } from '../ports/telemetry.ts';
import type { VectorStore } from '../ports/vector-store.ts';
import { chunkText, sectionHeadingsAt } from '../rag/chunking/index.ts';
import { type EmbeddingGroupMember, embedInBatches } from '../rag/embedding/index.ts';
import {
  type DocumentType,
  defaultExtractLimits,
  type ExtractLimits,
  extractFile,
  extractText,
} from '../rag/extract/index.ts';
import { fetchUrl } from '../rag/fetch/index.ts';
import { normalizeText } from '../rag/normalize-text.ts';
import { replaceSourceChunks } from '../repositories/chunks.ts';
import { findSource, findSourceByHash, loadSourceContent, setSourceStatus } from '../repositories/sources.ts';
import { recordUsage } from '../repositories/usage.ts';
import { type IngestDeadline, ingestDeadline } from './ingest-deadline.ts';
import { downloadOriginal } from './read-original.ts';

export interface IngestDeps {
  readonly db: Database;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  /** Where uploaded originals are kept: read for ingestion, removed once their source is deleted. */
  readonly blobStore: BlobStore;
  readonly logger: Logger;
  readonly chunking: { readonly maxTokens: number; readonly overlapTokens: number };
  readonly maxSourceBytes: number;
  /** Sources completed and failed, chunks, embedding calls and tokens, duration (never per tenant). */
  readonly metrics?: Metrics;
  /** What one document may cost to read (defaults: defaultExtractLimits). */
  readonly extractLimits?: ExtractLimits;
  /** Where an uploaded original is copied for extraction (default: the operating system's temp dir). */
  readonly tempDir?: string;
  /** Only tests loosen the SSRF guard (to fetch from a local server). */
  readonly fetchSource?: typeof fetchUrl;
}

/**
 * `rejected`: the document itself cannot be ingested (unreadable, empty, beyond an extraction limit); the
 * source is FAILED and the message is done, since no redelivery could change that. `failed`: the last
 * attempt failed for another reason; the source is FAILED and, in AWS, the message goes on to the DLQ.
 */
export type IngestOutcome = 'completed' | 'skipped' | 'rejected' | 'failed';

/**
 * Which delivery this is. `isLast`: a document problem now is final (FAILED). `outageIsFinal`: an outage of
 * the database or the vector store now is final too; until then it spends none of the document's attempts
 * (the queue redelivers after a backoff) because nothing is wrong with the document.
 */
export interface IngestAttempt {
  readonly number: number;
  readonly isLast: boolean;
  readonly outageIsFinal?: boolean;
  /**
   * When (epoch ms) this attempt must stop computing and store nothing more: the ingest function's remaining
   * time less a margin for the writes, or the local worker's INGEST_DEADLINE_SECONDS. A document that needs
   * longer ends FAILED with the reason, its message done (see IngestDeadline). None: no deadline.
   */
  readonly deadline?: number;
}

/**
 * Ingestion of one message in five steps: extract → normalize → chunk → embed → store. Idempotent:
 * chunk and vector ids are derived from (tenant, source, version, ordinal), so a redelivered or
 * concurrently delivered message writes the same rows; a message for an old version is skipped.
 * `embedding` is the source's place in a group of sources ingested together (see ingestSources); alone,
 * its chunks are embedded on their own.
 */
export async function ingestSource(
  message: IngestMessage,
  attempt: IngestAttempt,
  deps: IngestDeps,
  embedding: EmbeddingGroupMember = embeddedAlone(deps.embedder),
): Promise<IngestOutcome> {
  const started = performance.now();
  let outcome: IngestOutcome | undefined;
  try {
    outcome = await ingestOrFail(message, attempt, deps, embedding);
    return outcome;
  } finally {
    const metrics = deps.metrics ?? noMetrics;
    metrics.add('IngestDuration', 'Milliseconds', performance.now() - started);
    if (outcome === 'completed') metrics.add('SourcesCompleted', 'Count', 1);
    // A thrown error (an outage) is retried; only a final outcome counts as a failed source.
    if (outcome === 'failed' || outcome === 'rejected') metrics.add('SourcesFailed', 'Count', 1);
    // Whatever happened before the embedding step, the rest of the group must not wait for this source.
    embedding.leave();
  }
}

function embeddedAlone(embedder: Embedder): EmbeddingGroupMember {
  return { embed: (texts) => embedInBatches(embedder, texts), leave() {} };
}

async function ingestOrFail(
  message: IngestMessage,
  attempt: IngestAttempt,
  deps: IngestDeps,
  embedding: EmbeddingGroupMember,
): Promise<IngestOutcome> {
  const tenantId = asTenantId(message.tenantId);
  const deadline = ingestDeadline(attempt.deadline);
  // Read and claim in one transaction: skipped when deleted, superseded by a re-ingest, or already done.
  const claim = await deps.db.withTenant(tenantId, async (tx) => {
    const found = await findSource(tx, tenantId, message.sourceId);
    if (!found) return 'deleted' as const;
    if (found.version !== message.version || found.status === 'COMPLETED') return null;
    if (found.status === 'AWAITING_UPLOAD') return null;
    await setSourceStatus(tx, tenantId, found.id, found.version, { status: 'PROCESSING' });
    return found;
  });
  if (claim === 'deleted') {
    // The source was deleted (its deletion queues this message): its stored files go too.
    await deps.blobStore.deletePrefix(sourceBlobPrefix(tenantId, message.sourceId));
    return 'skipped';
  }
  if (!claim) return 'skipped';
  const source = claim;
  try {
    const extracted = await extract(tenantId, source, deps, deadline);
    if ('duplicateOf' in extracted) return await markDuplicate(tenantId, source, extracted.duplicateOf, deps);
    const { text, contentHash } = extracted;
    const chunks = chunkText(text, deps.chunking);
    if (chunks.length === 0) throw new UnusableSourceError('The source contains no text to index.');
    const embeddingChunks = `embedding its ${chunks.length.toLocaleString('en-US')} chunks`;
    deadline.check(embeddingChunks);
    // Embedding writes nothing, so at the deadline it is abandoned where it stands.
    const embedded = await deadline.race(embedding.embed(chunks.map((c) => c.content)), embeddingChunks);
    // The last moment to give up with nothing stored: from here on the writes run to their end.
    deadline.check(embeddingChunks);
    const space = deps.embedder.space;
    const ids = chunks.map((c) => pointId(tenantId, source.id, source.version, c.ordinal));
    await deps.vectorStore.ensureSpace(space);
    await deps.vectorStore.upsert(
      tenantId,
      space,
      chunks.map((_chunk, i) => ({
        id: ids[i]!,
        vector: embedded.vectors[i]!,
        sourceId: source.id,
        sourceVersion: source.version,
        chunkId: ids[i]!,
        tags: source.tags,
      })),
    );
    const tokenCount = chunks.reduce((n, c) => n + c.tokenCount, 0);
    const headings = sectionHeadingsAt(
      text,
      chunks.map((c) => c.startOffset),
    );
    const stillCurrent = await deps.db.withTenant(tenantId, async (tx) => {
      const marked = await setSourceStatus(tx, tenantId, source.id, source.version, {
        status: 'COMPLETED',
        chunkCount: chunks.length,
        tokenCount,
        contentHash,
      });
      if (!marked) return false;
      await replaceSourceChunks(
        tx,
        tenantId,
        source.id,
        source.version,
        chunks.map((c, i) => ({ ...c, id: ids[i]!, sectionHeading: headings[i]! })),
      );
      await recordUsage(tx, tenantId, {
        kind: 'embed',
        provider: space.provider,
        model: space.model,
        inputTokens: embedded.inputTokens,
        outputTokens: 0,
      });
      return true;
    });
    // Drop every version but the current one: the old one after a re-ingest, or this run's own vectors
    // if the source was re-ingested (keeping the newer version's, which may already be written) or
    // deleted (then nothing is kept) while it ran.
    const current = stillCurrent
      ? source.version
      : (await deps.db.withTenant(tenantId, (tx) => findSource(tx, tenantId, source.id)))?.version;
    await deps.vectorStore.deleteBySource(
      tenantId,
      space,
      source.id,
      current === undefined ? undefined : { exceptVersion: current },
    );
    deps.logger.info('source ingested', {
      tenantId,
      sourceId: source.id,
      chunks: chunks.length,
      calls: embedded.calls,
    });
    deps.metrics?.add('ChunksStored', 'Count', chunks.length);
    deps.metrics?.add('EmbeddingCalls', 'Count', embedded.calls);
    deps.metrics?.add('EmbeddingTokens', 'Count', embedded.inputTokens);
    return stillCurrent ? 'completed' : 'skipped';
  } catch (error) {
    return handleFailure(error, tenantId, source, attempt, deps);
  }
}

/**
 * Marks a source FAILED with `reason` when its ingestion was abandoned without an answer: the process died
 * during the last attempt (see the local job worker), so ingestSource never got to record anything.
 */
export async function failAbandonedIngest(
  message: IngestMessage,
  reason: string,
  deps: Pick<IngestDeps, 'db'>,
): Promise<void> {
  const tenantId = asTenantId(message.tenantId);
  await deps.db.withTenant(tenantId, async (tx) => {
    const found = await findSource(tx, tenantId, message.sourceId);
    if (!found || found.version !== message.version || found.status === 'COMPLETED') return;
    await setSourceStatus(tx, tenantId, found.id, found.version, { status: 'FAILED', error: reason });
  });
}

async function handleFailure(
  error: unknown,
  tenantId: TenantId,
  source: Source,
  attempt: IngestAttempt,
  deps: IngestDeps,
): Promise<IngestOutcome> {
  const outage = serviceUnavailableIn(error);
  const rejected = !outage && isDocumentError(error);
  const permanent = !outage && error instanceof DomainError && !error.retryable;
  const reason = outage ? outage.message : readableReason(error);
  const fields = {
    tenantId,
    sourceId: source.id,
    attempt: attempt.number,
    permanent,
    outage: !!outage,
    reason,
  };
  if (outage || reason === INTERNAL_REASON) {
    // Not the document's fault: the operator needs the cause, which the source's reason does not carry.
    deps.logger.error('ingest attempt failed', { ...fields, ...errorLogFields(error) });
  } else {
    deps.logger.warn('ingest attempt failed', fields);
  }
  if (outage && !attempt.outageIsFinal) {
    // The database may be the service that is down: then this write fails too, and the source keeps its
    // PROCESSING status until the queue delivers it again.
    await deps.db
      .withTenant(tenantId, (tx) =>
        setSourceStatus(tx, tenantId, source.id, source.version, {
          status: 'PENDING',
          error: `Waiting to retry: ${reason}`,
        }),
      )
      .catch(() => {});
    throw new IngestRetryableError(reason, { cause: error });
  }
  if (!permanent && !outage && !attempt.isLast) {
    await deps.db.withTenant(tenantId, (tx) =>
      setSourceStatus(tx, tenantId, source.id, source.version, {
        status: 'PENDING',
        error: `Retrying: ${reason}`,
      }),
    );
    throw new IngestRetryableError(reason, { cause: error });
  }
  await deps.db.withTenant(tenantId, (tx) =>
    setSourceStatus(tx, tenantId, source.id, source.version, { status: 'FAILED', error: reason }),
  );
  return rejected ? 'rejected' : 'failed';
}

/** A fault of the document itself: reading it again gives the same answer. */
function isDocumentError(error: unknown): boolean {
  return (
    error instanceof UnusableSourceError ||
    error instanceof DocumentLimitError ||
    error instanceof ValidationError ||
    error instanceof UnsupportedMediaTypeError
  );
}

const INTERNAL_REASON = 'An internal error interrupted the ingestion; it was logged.';

/** Domain errors carry messages written for people; anything else is summarised without internals. */
function readableReason(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  return INTERNAL_REASON;
}

/** The same bytes are already another source of the tenant: this one ends FAILED, pointing at it. */
async function markDuplicate(
  tenantId: TenantId,
  source: Source,
  original: Source,
  deps: IngestDeps,
): Promise<IngestOutcome> {
  await deps.db.withTenant(tenantId, (tx) =>
    setSourceStatus(tx, tenantId, source.id, source.version, {
      status: 'FAILED',
      // A failed original is the one to retry: a second copy of the same bytes cannot be kept beside it.
      error:
        original.status === 'FAILED'
          ? `The same content is already source ${original.id} ('${original.title}'), whose ingestion failed: ${original.error ?? 'no reason was recorded'} Re-ingest that source to try again; nothing was embedded here.`
          : `The same content is already source ${original.id} ('${original.title}'); nothing was re-embedded.`,
      duplicateOf: original.id,
    }),
  );
  deps.logger.info('duplicate upload', { tenantId, sourceId: source.id, duplicateOf: original.id });
  return 'rejected';
}

async function extract(
  tenantId: TenantId,
  source: Source,
  deps: IngestDeps,
  deadline: IngestDeadline,
): Promise<{ text: string; contentHash: string | null } | { duplicateOf: Source }> {
  if (source.type === 'url') {
    const fetched = await (deps.fetchSource ?? fetchUrl)(source.url!, { maxBytes: deps.maxSourceBytes });
    deadline.check('fetching the page');
    const contentHash = createHash('sha256').update(fetched.bytes).digest('hex');
    const duplicate = await deps.db.withTenant(tenantId, (tx) => findSourceByHash(tx, tenantId, contentHash));
    if (duplicate && duplicate.id !== source.id) {
      throw new UnusableSourceError(
        `The page's content is the same as source ${duplicate.id} ('${duplicate.title}').`,
      );
    }
    const type = /pdf/.test(fetched.contentType ?? '')
      ? 'pdf'
      : /html/.test(fetched.contentType ?? '')
        ? 'html'
        : 'text';
    const text = await readWithin(
      deadline,
      (limits) => extractText({ bytes: fetched.bytes, contentType: fetched.contentType, type }, limits),
      deps.extractLimits,
    );
    return { text: normalizeText(text), contentHash };
  }
  const stored = await deps.db.withTenant(tenantId, (tx) => loadSourceContent(tx, tenantId, source.id));
  if (stored?.blobKey)
    return extractOriginal(tenantId, { ...source, type: source.type }, stored.blobKey, deps, deadline);
  if (!stored?.content) throw new UnusableSourceError('The source has no content.');
  const document = { bytes: stored.content, contentType: source.contentType ?? undefined, type: source.type };
  const text = await readWithin(deadline, (limits) => extractText(document, limits), deps.extractLimits);
  return { text: normalizeText(text), contentHash: null };
}

/**
 * Extraction within the deadline: the worker's own timer is cut to the time left, so it is stopped (and
 * its thread terminated) when the ingestion's time is up, and that stop reads as the deadline, not as a
 * document too slow to read within EXTRACT_TIMEOUT_SECONDS.
 */
async function readWithin(
  deadline: IngestDeadline,
  read: (limits: ExtractLimits) => Promise<string>,
  limits: ExtractLimits = defaultExtractLimits,
): Promise<string> {
  const left = deadline.remainingMs();
  const doing = 'reading the document';
  deadline.check(doing);
  const cut = left < limits.timeoutMs ? { ...limits, timeoutMs: Math.max(1, Math.floor(left)) } : limits;
  try {
    return await deadline.race(read(cut), doing);
  } catch (error) {
    if (error instanceof DocumentLimitError && !(error instanceof IngestDeadlineError) && cut !== limits) {
      if (deadline.remainingMs() <= 0) throw deadline.error(doing);
    }
    throw error;
  }
}

/**
 * A file kept in the blob store, copied to a temporary file (removed whatever happens) so no step holds the
 * whole original in this process. Its hash is computed on the way and claimed on the row before the
 * expensive steps: a twin ingested at the same time then fails the unique hash index, and its next attempt
 * finds this source and ends as its duplicate.
 */
async function extractOriginal(
  tenantId: TenantId,
  source: Source & { readonly type: DocumentType },
  blobKey: string,
  deps: IngestDeps,
  deadline: IngestDeadline,
): Promise<{ text: string; contentHash: string | null } | { duplicateOf: Source }> {
  const downloading = `downloading the file (${(source.sizeBytes / 1024 / 1024).toFixed(1)} MB)`;
  deadline.check(downloading);
  const left = deadline.remainingMs();
  const original = await downloadOriginal(
    deps.blobStore,
    blobKey,
    source.sizeBytes,
    deps.maxSourceBytes,
    deps.tempDir,
    Number.isFinite(left) ? AbortSignal.timeout(Math.max(1, Math.floor(left))) : undefined,
  ).catch((error: unknown) => {
    throw error instanceof Error && error.name === 'AbortError' && deadline.remainingMs() <= 0
      ? deadline.error(downloading)
      : error;
  });
  try {
    const { contentHash } = original;
    const duplicate = await deps.db.withTenant(tenantId, async (tx) => {
      const existing = await findSourceByHash(tx, tenantId, contentHash);
      if (existing && existing.id !== source.id) return existing;
      await setSourceStatus(tx, tenantId, source.id, source.version, { status: 'PROCESSING', contentHash });
      return undefined;
    });
    if (duplicate) return { duplicateOf: duplicate };
    await deps.blobStore.retain(blobKey);
    const text = await readWithin(
      deadline,
      (limits) =>
        extractFile(
          { path: original.path, contentType: source.contentType ?? undefined, type: source.type },
          limits,
        ),
      deps.extractLimits,
    );
    return { text: normalizeText(text), contentHash };
  } finally {
    await original.remove();
  }
}
