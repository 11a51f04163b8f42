import { createHash } from 'node:crypto';
import { SqlFragment, sql } from '../../db/sql.ts';
import { ServiceUnavailableError, ValidationError } from '../../domain/errors.ts';
import { isUuid, type TenantId } from '../../domain/ids.ts';
import type { SystemQueryable } from '../../ports/database.ts';

/**
 * The pgvector table is created lazily by the store rather than by a migration: pgvector is optional on a
 * PostgreSQL server (the Qdrant store needs no extension), and migrations must run everywhere.
 *
 * `embedding` has no fixed dimension because one table holds every embedding space. Each space gets a
 * partial HNSW index on `embedding::vector(DIM)` restricted to its rows, and searches use the same
 * expression so the planner can pick that index. The key is (space, id): the same chunk embedded in two
 * spaces (during a model switch) is two points, as it is in Qdrant's two collections.
 */
const TABLE_DDL = `
create extension if not exists vector;
create table if not exists chunk_vectors (
  space text not null,
  id uuid not null,
  tenant_id uuid not null references tenants (id) on delete cascade,
  source_id uuid not null,
  source_version integer not null,
  chunk_id uuid not null,
  tags text[] not null default '{}',
  embedding vector not null,
  primary key (space, id)
);
create index if not exists chunk_vectors_source_idx on chunk_vectors (tenant_id, space, source_id, source_version);
alter table chunk_vectors enable row level security;
alter table chunk_vectors force row level security;
do $$
begin
  create policy tenant_isolation on chunk_vectors
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
exception when duplicate_object then null;
end $$;
grant select, insert, update, delete on chunk_vectors to minirag_app;
`;

const SPACE_NAME_RE = /^[a-z0-9_.-]+$/;
const MAX_DIMENSIONS = 4096;
/** pgvector's HNSW limits: 2,000 dimensions as `vector`, 4,000 as `halfvec` (half precision). */
const MAX_VECTOR_INDEX_DIMENSIONS = 2000;
const MAX_HALFVEC_INDEX_DIMENSIONS = 4000;

export function validateDimensions(dimensions: number): number {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    throw new ValidationError(
      `embedding dimensions must be an integer from 1 to ${MAX_DIMENSIONS}, got ${dimensions}`,
    );
  }
  return dimensions;
}

function validateSpaceName(name: string): string {
  if (!SPACE_NAME_RE.test(name)) throw new ValidationError(`invalid embedding space name: ${name}`);
  return name;
}

/**
 * The type a space's vectors are compared as: `vector(DIM)`, or `halfvec(DIM)` above 2,000 dimensions
 * (e.g. 3,072-dimensional OpenAI embeddings) because HNSW cannot index larger `vector`s; above 4,000 even
 * halfvec cannot be indexed and searches scan exactly. A type modifier cannot be a bind parameter, so
 * this is where a value enters SQL text: only an integer checked to be in 1..4096.
 */
export function comparedType(dimensions: number): { sql: SqlFragment; text: string; indexable: boolean } {
  const dims = validateDimensions(dimensions);
  const text = dims <= MAX_VECTOR_INDEX_DIMENSIONS ? `vector(${dims})` : `halfvec(${dims})`;
  return { sql: new SqlFragment([text], []), text, indexable: dims <= MAX_HALFVEC_INDEX_DIMENSIONS };
}

export const PGVECTOR_MISSING =
  'The PostgreSQL server has no pgvector extension, which VECTOR_STORE=pgvector needs: install it on the server (the postgresql-<major version>-pgvector package, or the pgvector option of a managed database), or set VECTOR_STORE=qdrant and QDRANT_URL.';

/**
 * `create extension vector` on a server without the package: 0A000 "extension is not available"
 * (PostgreSQL 15+), 58P01 "could not open extension control file" (older). Only an operator can fix it.
 */
function pgvectorMissing(error: unknown): ServiceUnavailableError | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const aboutVector = typeof message === 'string' && /vector/.test(message);
  if ((code === '0A000' || code === '58P01') && aboutVector)
    return new ServiceUnavailableError(PGVECTOR_MISSING, { retryable: false, cause: error });
  return undefined;
}

/** Serialises the table's creation across processes, so concurrent first uses do not race on the catalog. */
export async function ensureChunkVectorsTable(tx: SystemQueryable): Promise<string> {
  await tx.query(sql`select pg_advisory_xact_lock(hashtext('minirag.chunk_vectors'))`);
  try {
    await tx.execScript(TABLE_DDL);
  } catch (error) {
    throw pgvectorMissing(error) ?? error;
  }
  const [row] = await tx.query<{ version: string }>(
    sql`select extversion as version from pg_extension where extname = 'vector'`,
  );
  return row?.version ?? '0';
}

/**
 * The partial HNSW index of one space. DDL takes no bind parameters, so the space name and dimensions are
 * spliced into the statement; both are validated first (the name against /^[a-z0-9_.-]+$/, which leaves
 * no quote or other SQL syntax to inject, the dimensions as an integer 1..4096). The index name is a hash
 * because space names can exceed PostgreSQL's 63-character identifiers.
 */
export async function ensureSpaceIndex(
  tx: SystemQueryable,
  spaceName: string,
  dimensions: number,
): Promise<void> {
  const name = validateSpaceName(spaceName);
  const type = comparedType(dimensions);
  if (!type.indexable) return;
  const opclass = type.text.startsWith('halfvec') ? 'halfvec_cosine_ops' : 'vector_cosine_ops';
  const index = `chunk_vectors_hnsw_${createHash('sha1').update(name).digest('hex').slice(0, 16)}`;
  await tx.query(sql`select pg_advisory_xact_lock(hashtext('minirag.chunk_vectors'))`);
  await tx.execScript(
    `create index if not exists ${index} on chunk_vectors using hnsw ((embedding::${type.text}) ${opclass}) where space = '${name}';`,
  );
}

/**
 * A tenant's own partial HNSW index in one space, for a tenant past the exact-search threshold. The space's
 * index is one graph for every tenant: a search filtered to a tenant holding a sixth of the rows found 0.94
 * of its exact top 10, one holding a tenth 0.93 (docs/performance.md, "Retrieval"). A graph of the tenant's
 * own vectors needs no filter. The tenant id is validated as a UUID before it is spliced into the DDL, like
 * the space name; the index name hashes both. Built once, when the tenant crosses the threshold (a plain
 * CREATE INDEX: it holds back other writes to the table while it builds, seconds for tens of thousands of
 * vectors on a server).
 */
export async function ensureTenantIndex(
  tx: SystemQueryable,
  spaceName: string,
  tenantId: TenantId,
  dimensions: number,
): Promise<void> {
  const name = validateSpaceName(spaceName);
  if (!isUuid(tenantId)) throw new ValidationError(`invalid tenant id: ${tenantId}`);
  const type = comparedType(dimensions);
  if (!type.indexable) return;
  const opclass = type.text.startsWith('halfvec') ? 'halfvec_cosine_ops' : 'vector_cosine_ops';
  await tx.query(sql`select pg_advisory_xact_lock(hashtext('minirag.chunk_vectors'))`);
  await tx.execScript(
    `create index if not exists ${tenantIndexName(name, tenantId)} on chunk_vectors using hnsw ((embedding::${type.text}) ${opclass}) with (ef_construction = ${TENANT_INDEX_EF_CONSTRUCTION}) where space = '${name}' and tenant_id = '${tenantId.toLowerCase()}';`,
  );
}

/**
 * The candidate list while a tenant's graph is built (pgvector's default is 64): a denser graph for the
 * one tenant it serves, at about twice the build time, paid once when the tenant crosses the threshold.
 */
const TENANT_INDEX_EF_CONSTRUCTION = 128;

/** The name of a tenant's own index in a space (a hash: identifiers are limited to 63 characters). */
export function tenantIndexName(spaceName: string, tenantId: TenantId): string {
  const digest = createHash('sha1').update(`${spaceName}/${tenantId.toLowerCase()}`).digest('hex');
  return `chunk_vectors_hnsw_t_${digest.slice(0, 16)}`;
}
