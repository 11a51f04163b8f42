import { type SqlFragment, sql } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Source, SourceStatus, SourceType } from '../domain/source.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface SourceRow {
  id: string;
  tenant_id: string;
  title: string;
  type: SourceType;
  url: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  content_type: string | null;
  content_hash: string | null;
  size_bytes: number;
  duplicate_of: string | null;
  upload_expires_at: Date | null;
  version: number;
  status: SourceStatus;
  error: string | null;
  chunk_count: number;
  token_count: number;
  created_at: Date;
  updated_at: Date;
  processed_at: Date | null;
}

const toSource = (r: SourceRow): Source => ({
  id: r.id,
  tenantId: r.tenant_id,
  title: r.title,
  type: r.type,
  url: r.url,
  tags: r.tags,
  metadata: r.metadata,
  contentType: r.content_type,
  contentHash: r.content_hash,
  sizeBytes: r.size_bytes,
  duplicateOf: r.duplicate_of,
  uploadExpiresAt: r.upload_expires_at,
  version: r.version,
  status: r.status,
  error: r.error,
  chunkCount: r.chunk_count,
  tokenCount: r.token_count,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  processedAt: r.processed_at,
});

// The raw content stays out of every listing: only the ingest step reads it (`loadSourceContent`).
const COLUMNS = sql`id, tenant_id, title, type, url, tags, metadata, content_type, content_hash,
  coalesce(byte_size, octet_length(content), 0)::int as size_bytes, duplicate_of, upload_expires_at, version,
  status, error, chunk_count, token_count, created_at, updated_at, processed_at`;

export interface NewSource {
  readonly id: string;
  readonly title: string;
  readonly type: SourceType;
  readonly url: string | null;
  readonly tags: readonly string[];
  readonly metadata: Record<string, unknown>;
  readonly content: Uint8Array | null;
  readonly contentType: string | null;
  readonly contentHash: string | null;
  /** Where the original is kept in the blob store, when it is not held in the row. */
  readonly blobKey?: string | null;
  readonly byteSize?: number | null;
  /** AWAITING_UPLOAD for a direct upload (with the URL's expiry); PENDING otherwise. */
  readonly status?: 'AWAITING_UPLOAD' | 'PENDING';
  readonly uploadExpiresAt?: Date | null;
}

export async function insertSource(tx: Queryable, tenantId: TenantId, s: NewSource): Promise<Source> {
  const [row] = await tx.query<SourceRow>(sql`
    insert into sources (id, tenant_id, title, type, url, tags, metadata, content, content_type, content_hash,
                         blob_key, byte_size, status, upload_expires_at)
    values (${s.id}, ${tenantId}, ${s.title}, ${s.type}, ${s.url}, ${[...s.tags]}::text[], ${s.metadata}::jsonb,
            ${s.content}, ${s.contentType}, ${s.contentHash}, ${s.blobKey ?? null}, ${s.byteSize ?? null}::int,
            ${s.status ?? 'PENDING'}, ${s.uploadExpiresAt ?? null}::timestamptz)
    returning ${COLUMNS}`);
  return toSource(row!);
}

/** AWAITING_UPLOAD → PENDING, once: false when the source is not (or no longer) waiting for its file. */
export async function markUploadReceived(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(sql`
    update sources set status = 'PENDING', upload_expires_at = null, updated_at = now()
    where tenant_id = ${tenantId} and id = ${id} and status = 'AWAITING_UPLOAD' returning id`);
  return rows.length > 0;
}

/** A tenant's uploads never completed, created before `createdBefore`. */
export async function findAbandonedUploads(
  tx: Queryable,
  tenantId: TenantId,
  createdBefore: Date,
  limit: number,
): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(sql`
    select id from sources
    where tenant_id = ${tenantId} and status = 'AWAITING_UPLOAD' and created_at < ${createdBefore}::timestamptz
    order by created_at limit ${limit}`);
  return rows.map((r) => r.id);
}

/** Deletes a source only while it still awaits its upload (a completion racing the sweep wins). */
export async function deleteAbandonedUpload(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(sql`
    delete from sources where tenant_id = ${tenantId} and id = ${id} and status = 'AWAITING_UPLOAD' returning id`);
  return rows.length > 0;
}

export async function findSource(tx: Queryable, tenantId: TenantId, id: string): Promise<Source | null> {
  const [row] = await tx.query<SourceRow>(
    sql`select ${COLUMNS} from sources where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? toSource(row) : null;
}

export async function findSourceByHash(
  tx: Queryable,
  tenantId: TenantId,
  hash: string,
): Promise<Source | null> {
  const [row] = await tx.query<SourceRow>(
    sql`select ${COLUMNS} from sources where tenant_id = ${tenantId} and content_hash = ${hash}`,
  );
  return row ? toSource(row) : null;
}

/** The source's bytes: held in the row (JSON text), or the key of its original in the blob store. */
export async function loadSourceContent(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
): Promise<{ content: Uint8Array | null; blobKey: string | null } | null> {
  const [row] = await tx.query<{ content: Uint8Array | null; blob_key: string | null }>(
    sql`select content, blob_key from sources where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? { content: row.content, blobKey: row.blob_key } : null;
}

export interface SourceFilter {
  readonly status?: SourceStatus | undefined;
  readonly tag?: string | undefined;
}

export async function listSources(
  tx: Queryable,
  tenantId: TenantId,
  filter: SourceFilter,
  page: PageRequest,
): Promise<Page<Source>> {
  const conditions: SqlFragment[] = [];
  if (filter.status) conditions.push(sql` and status = ${filter.status}`);
  if (filter.tag) conditions.push(sql` and tags @> ${[filter.tag]}::text[]`);
  const where = conditions.reduce((acc, c) => sql`${acc}${c}`, sql``);
  const rows = await tx.query<SourceRow>(sql`
    select ${COLUMNS} from sources where tenant_id = ${tenantId} ${where} ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toSource), page.limit);
}

export async function deleteSource(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(
    sql`delete from sources where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  return rows.length > 0;
}

/** A new version to ingest (re-ingest): back to PENDING; older in-flight messages become stale. */
export async function bumpSourceVersion(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
): Promise<Source | null> {
  const [row] = await tx.query<SourceRow>(sql`
    update sources set version = version + 1, status = 'PENDING', error = null, duplicate_of = null,
      updated_at = now()
    where tenant_id = ${tenantId} and id = ${id} and status <> 'AWAITING_UPLOAD' returning ${COLUMNS}`);
  return row ? toSource(row) : null;
}

/** Status changes apply only to the version the worker holds, so a stale message can never overwrite. */
export async function setSourceStatus(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
  version: number,
  change: {
    status: SourceStatus;
    error?: string | null;
    chunkCount?: number;
    tokenCount?: number;
    contentHash?: string | null;
    duplicateOf?: string | null;
  },
): Promise<boolean> {
  const processed =
    change.status === 'COMPLETED' || change.status === 'FAILED' ? sql`now()` : sql`processed_at`;
  const rows = await tx.query(sql`
    update sources set status = ${change.status}, error = ${change.error ?? null},
      chunk_count = coalesce(${change.chunkCount ?? null}::int, chunk_count),
      token_count = coalesce(${change.tokenCount ?? null}::int, token_count),
      content_hash = coalesce(${change.contentHash ?? null}::text, content_hash),
      duplicate_of = coalesce(${change.duplicateOf ?? null}::uuid, duplicate_of),
      processed_at = ${processed}, updated_at = now()
    where tenant_id = ${tenantId} and id = ${id} and version = ${version} returning id`);
  return rows.length > 0;
}
