import { createHash } from 'node:crypto';
import { requireScope } from '../auth/authorize.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { originalBlobKey, sourceBlobPrefix } from '../domain/blob-key.ts';
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Source, SourceType } from '../domain/source.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Database } from '../ports/database.ts';
import type { EmbeddingSpace } from '../ports/embedder.ts';
import type { IngestQueue } from '../ports/ingest-queue.ts';
import type { VectorStore } from '../ports/vector-store.ts';
import { enqueueIngestJob } from '../repositories/jobs.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import {
  bumpSourceVersion,
  deleteSource,
  findSource,
  findSourceByHash,
  insertSource,
  listSources,
  type SourceFilter,
} from '../repositories/sources.ts';

export interface SourceDeps {
  readonly db: Database;
  readonly ingestQueue: IngestQueue;
  readonly vectorStore: VectorStore;
  readonly embeddingSpace: EmbeddingSpace;
  /** Where uploaded files are kept (the ingest step reads them from there). */
  readonly blobStore: BlobStore;
  /** Attempts before a source is FAILED (the local queue; in AWS the SQS redrive policy decides). */
  readonly ingestMaxAttempts?: number | undefined;
}

export interface NewSourceInput {
  readonly title: string;
  readonly type: SourceType;
  /** Text, markdown or HTML as a string, or the bytes of an uploaded file. */
  readonly content?: string | Uint8Array | undefined;
  readonly contentType?: string | undefined;
  readonly url?: string | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly metadata?: Record<string, unknown> | undefined;
}

/** As the config's INGEST_MAX_ATTEMPTS default. */
const DEFAULT_INGEST_ATTEMPTS = 5;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * Stores a source as PENDING and enqueues its ingestion in the same transaction (the outbox), so a
 * committed source always has a job. The same content twice in one tenant is reported, not re-embedded.
 */
export async function createSource(
  auth: AuthContext,
  input: NewSourceInput,
  deps: SourceDeps,
): Promise<Source> {
  requireScope(auth, 'sources:write');
  const content =
    typeof input.content === 'string' ? new TextEncoder().encode(input.content) : (input.content ?? null);
  // URL sources are hashed after fetching (by the ingest step); until then the URL itself guards duplicates.
  const contentHash = content ? sha256(content) : input.url ? sha256(`url:${input.url}`) : null;
  // A file is kept in the blob store, as a direct upload's is; JSON text stays in the row.
  const id = newId();
  const file = input.content instanceof Uint8Array ? input.content : undefined;
  const blobKey = file ? originalBlobKey(auth.tenantId, id, 1) : null;
  let stored = false;
  const source = await deps.db
    .withTenant(auth.tenantId, async (tx) => {
      if (contentHash) {
        const existing = await findSourceByHash(tx, auth.tenantId, contentHash);
        if (existing) {
          throw new ConflictError(
            `This content was already added as source ${existing.id} ('${existing.title}'). Re-ingest that source instead.`,
            { details: { existing_source_id: existing.id } },
          );
        }
      }
      if (file && blobKey) {
        // Written before the row commits, so a committed source always has its file; a failed commit removes it.
        await deps.blobStore.put(blobKey, file, input.contentType ?? 'application/octet-stream');
        stored = true;
      }
      const created = await insertSource(tx, auth.tenantId, {
        id,
        title: input.title,
        type: input.type,
        url: input.url ?? null,
        tags: [...new Set(input.tags ?? [])],
        metadata: input.metadata ?? {},
        content: file ? null : content,
        contentType: input.contentType ?? null,
        contentHash,
        blobKey,
        byteSize: file?.byteLength ?? null,
      });
      await enqueueIngestJob(
        tx,
        auth.tenantId,
        {
          tenantId: auth.tenantId,
          sourceId: created.id,
          version: created.version,
        },
        deps.ingestMaxAttempts ?? DEFAULT_INGEST_ATTEMPTS,
      );
      return created;
    })
    .catch(async (error: unknown) => {
      if (stored) await deps.blobStore.deletePrefix(sourceBlobPrefix(auth.tenantId, id)).catch(() => {});
      throw error;
    });
  await deps.ingestQueue.notify();
  return source;
}

export async function getSource(auth: AuthContext, id: string, deps: { db: Database }): Promise<Source> {
  requireScope(auth, 'read');
  const source = await deps.db.withTenant(auth.tenantId, (tx) => findSource(tx, auth.tenantId, id));
  if (!source) throw new NotFoundError('Source');
  return source;
}

export function listTenantSources(
  auth: AuthContext,
  filter: SourceFilter,
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<Source>> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, (tx) => listSources(tx, auth.tenantId, filter, page));
}

/** A new version: back to PENDING and a fresh job; messages for the old version become no-ops. */
export async function reingestSource(auth: AuthContext, id: string, deps: SourceDeps): Promise<Source> {
  requireScope(auth, 'sources:write');
  const source = await deps.db.withTenant(auth.tenantId, async (tx) => {
    const bumped = await bumpSourceVersion(tx, auth.tenantId, id);
    if (!bumped) {
      const found = await findSource(tx, auth.tenantId, id);
      if (!found) throw new NotFoundError('Source');
      throw new ConflictError(
        'The source is still waiting for its file: upload it and call POST /v1/sources/{id}/complete first.',
      );
    }
    await enqueueIngestJob(
      tx,
      auth.tenantId,
      {
        tenantId: auth.tenantId,
        sourceId: id,
        version: bumped.version,
      },
      deps.ingestMaxAttempts ?? DEFAULT_INGEST_ATTEMPTS,
    );
    return bumped;
  });
  await deps.ingestQueue.notify();
  return source;
}

/**
 * Vectors first, then the row (its chunks cascade): if the second step fails the source still exists
 * and can be deleted again; the reverse order could leave vectors no row points to. The stored files go
 * last, through the ingest queue: a job for a source that no longer exists removes its blobs (in AWS only
 * the ingest function may delete objects), committed with the deletion so it cannot be lost.
 */
export async function removeSource(auth: AuthContext, id: string, deps: SourceDeps): Promise<void> {
  requireScope(auth, 'sources:write');
  const source = await getSource(auth, id, deps);
  await deps.vectorStore.deleteBySource(auth.tenantId, deps.embeddingSpace, id);
  await deps.db.withTenant(auth.tenantId, async (tx) => {
    const deleted = await deleteSource(tx, auth.tenantId, id);
    if (!deleted) throw new NotFoundError('Source');
    await enqueueIngestJob(
      tx,
      auth.tenantId,
      { tenantId: auth.tenantId, sourceId: id, version: source.version + 1 },
      deps.ingestMaxAttempts ?? DEFAULT_INGEST_ATTEMPTS,
    );
  });
  await deps.ingestQueue.notify();
}
