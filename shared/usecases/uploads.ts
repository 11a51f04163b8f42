import { requireScope } from '../auth/authorize.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { originalBlobKey, sourceBlobPrefix } from '../domain/blob-key.ts';
import { detectSourceType } from '../domain/document-type.ts';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.ts';
import { newId, type TenantId } from '../domain/ids.ts';
import type { Source } from '../domain/source.ts';
import type { BlobStore, BlobUpload } from '../ports/blob-store.ts';
import type { Database } from '../ports/database.ts';
import type { Logger } from '../ports/logger.ts';
import { enqueueIngestJob } from '../repositories/jobs.ts';
import {
  deleteAbandonedUpload,
  findAbandonedUploads,
  findSource,
  insertSource,
  loadSourceContent,
  markUploadReceived,
} from '../repositories/sources.ts';
import { listTenantIds } from '../repositories/tenants.ts';
import type { SourceDeps } from './sources.ts';

export interface UploadDeps extends SourceDeps {
  /** MAX_UPLOAD_BYTES: the largest file a tenant may add. */
  readonly maxUploadBytes: number;
  /** How long an upload URL is valid (S3 presigned URLs: at most 15 minutes). */
  readonly uploadUrlSeconds?: number;
}

export interface NewUploadInput {
  readonly filename: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly title?: string | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly metadata?: Record<string, unknown> | undefined;
}

/** How long a source may wait for its file before the sweep removes it. */
export const ABANDONED_UPLOAD_HOURS = 24;
const DEFAULT_UPLOAD_URL_SECONDS = 15 * 60;
/** As the config's INGEST_MAX_ATTEMPTS default. */
const DEFAULT_INGEST_ATTEMPTS = 5;

/**
 * Step one of a direct upload: checks what the client declares (size, type) before anything is stored, then
 * creates the source as AWAITING_UPLOAD and hands out a URL that accepts exactly that file for its key.
 */
export async function startUpload(
  auth: AuthContext,
  input: NewUploadInput,
  deps: UploadDeps,
): Promise<{ source: Source; upload: BlobUpload }> {
  requireScope(auth, 'sources:write');
  if (input.sizeBytes === 0)
    throw new ValidationError('size_bytes: the file is empty; there is nothing to ingest.');
  if (input.sizeBytes > deps.maxUploadBytes) {
    throw new PayloadTooLargeError(
      `The file is ${input.sizeBytes} bytes; the limit is ${deps.maxUploadBytes} bytes (MAX_UPLOAD_BYTES).`,
    );
  }
  const type = detectSourceType(input.filename, input.contentType);
  if (type === 'text' || type === 'markdown' || type === 'html') {
    // Declared text must be text: a PDF named notes.txt would otherwise be indexed as gibberish.
    if (/^(application\/(pdf|vnd\.openxml|zip))/i.test(input.contentType)) {
      throw new UnsupportedMediaTypeError(
        `The file name says ${type} but the content type says ${input.contentType}; send the file's own type.`,
      );
    }
  }
  const id = newId();
  const key = originalBlobKey(auth.tenantId, id, 1);
  const upload = await deps.blobStore.presignUpload(key, {
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    expiresInSeconds: deps.uploadUrlSeconds ?? DEFAULT_UPLOAD_URL_SECONDS,
  });
  const source = await deps.db.withTenant(auth.tenantId, (tx) =>
    insertSource(tx, auth.tenantId, {
      id,
      title: input.title ?? input.filename,
      type,
      url: null,
      tags: [...new Set(input.tags ?? [])],
      metadata: input.metadata ?? {},
      content: null,
      contentType: input.contentType,
      contentHash: null,
      blobKey: key,
      byteSize: input.sizeBytes,
      status: 'AWAITING_UPLOAD',
      uploadExpiresAt: upload.expiresAt,
    }),
  );
  return { source, upload };
}

/**
 * Step three: the file is in the blob store (checked with a HEAD, size included), so the source moves to
 * PENDING and its ingestion is queued, in one transaction. Idempotent: a source past AWAITING_UPLOAD is
 * returned as it is. The content hash (and so deduplication) is the ingest step's: it reads the bytes anyway.
 */
export async function completeUpload(auth: AuthContext, id: string, deps: UploadDeps): Promise<Source> {
  requireScope(auth, 'sources:write');
  const tenantId = auth.tenantId;
  const found = await deps.db.withTenant(tenantId, async (tx) => {
    const source = await findSource(tx, tenantId, id);
    const stored = source ? await loadSourceContent(tx, tenantId, id) : null;
    return source ? { source, blobKey: stored?.blobKey ?? null } : null;
  });
  if (!found) throw new NotFoundError('Source');
  const { source, blobKey } = found;
  if (source.status !== 'AWAITING_UPLOAD' || !blobKey) return source;
  const object = await deps.blobStore.head(blobKey);
  if (!object) {
    const expired = source.uploadExpiresAt && source.uploadExpiresAt.getTime() < Date.now();
    throw new ConflictError(
      expired
        ? 'The file was never uploaded and the upload URL has expired: start again with POST /v1/sources/uploads.'
        : 'The file has not been uploaded yet: PUT it to the upload URL first, then complete the upload.',
    );
  }
  if (object.sizeBytes !== source.sizeBytes) {
    throw new ConflictError(
      `The uploaded file is ${object.sizeBytes} bytes but ${source.sizeBytes} were declared: upload the file again.`,
    );
  }
  const completed = await deps.db.withTenant(tenantId, async (tx) => {
    if (!(await markUploadReceived(tx, tenantId, id))) return undefined;
    await enqueueIngestJob(
      tx,
      tenantId,
      { tenantId, sourceId: id, version: source.version },
      deps.ingestMaxAttempts ?? DEFAULT_INGEST_ATTEMPTS,
    );
    return findSource(tx, tenantId, id);
  });
  if (completed) {
    await deps.ingestQueue.notify();
    return completed;
  }
  // A concurrent completion won the race: the source is queued either way.
  const current = await deps.db.withTenant(tenantId, (tx) => findSource(tx, tenantId, id));
  if (!current) throw new NotFoundError('Source');
  return current;
}

/**
 * Removes sources whose file never came (AWAITING_UPLOAD for ABANDONED_UPLOAD_HOURS), with anything stored
 * under them. Run by the platform: the local server's periodic sweep, the ingest function's scheduled one.
 */
export async function sweepAbandonedUploads(
  deps: { readonly db: Database; readonly blobStore: BlobStore; readonly logger: Logger },
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - ABANDONED_UPLOAD_HOURS * 3600_000);
  // Sources are read tenant by tenant: row-level security is forced on them, even for the owner.
  const tenants = await deps.db.withSystem((tx) => listTenantIds(tx));
  let removed = 0;
  for (const tenantId of tenants) {
    const abandoned = await deps.db.withTenant(tenantId, (tx) =>
      findAbandonedUploads(tx, tenantId, cutoff, 500),
    );
    for (const id of abandoned) {
      if (await removeAbandoned(deps, tenantId, id)) removed++;
    }
  }
  if (removed > 0) deps.logger.info('abandoned uploads removed', { removed });
  return removed;
}

async function removeAbandoned(
  deps: { readonly db: Database; readonly blobStore: BlobStore },
  tenantId: TenantId,
  id: string,
): Promise<boolean> {
  // The row first: a completion racing the sweep either wins (the row stays PENDING, the file is kept) or
  // finds no source; only then is the file removed.
  const deleted = await deps.db.withTenant(tenantId, (tx) => deleteAbandonedUpload(tx, tenantId, id));
  if (deleted) await deps.blobStore.deletePrefix(sourceBlobPrefix(tenantId, id));
  return deleted;
}
