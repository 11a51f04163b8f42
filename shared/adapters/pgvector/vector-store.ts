import { type SqlFragment, sql } from '../../db/sql.ts';
import { isUuid, type TenantId } from '../../domain/ids.ts';
import type { Database } from '../../ports/database.ts';
import type { EmbeddingSpace } from '../../ports/embedder.ts';
import type { VectorHit, VectorStore } from '../../ports/vector-store.ts';
import { assertPointFits, assertVectorFits, embeddingSpaceName } from '../vector-space.ts';
import { comparedType, ensureChunkVectorsTable, ensureSpaceIndex, ensureTenantIndex } from './schema.ts';

export interface PgVectorStoreOptions {
  /**
   * HNSW candidate list size (`hnsw.ef_search`) for tenants above the exact-search threshold; raised to
   * twice the limit when that is larger. Default `HNSW_EF_SEARCH`. Higher
   * means better recall and slower searches.
   */
  readonly efSearch?: number;
  /**
   * A tenant with fewer vectors than this in a space is searched exactly (every one of its vectors
   * compared, a plan that cannot use the HNSW index); a larger one through the HNSW index with iterative
   * scan. Default `EXACT_SEARCH_BELOW`.
   */
  readonly exactSearchBelow?: number;
  /** How long a tenant's counted size is reused, in ms. Default 30 s. */
  readonly tenantSizeTtlMs?: number;
}

/**
 * Below this many vectors in a space a tenant is searched exactly (docs/performance.md, "Retrieval"); at it,
 * the tenant gets an HNSW index of its own (schema.ts, ensureTenantIndex) and is searched through it. At 10k
 * vectors, in a 100k-row table where the tenant is a tenth of the rows, a search of the space's shared index
 * filtered to the tenant was only 1.1–2.4× faster than the exact scan and found 0.85–0.93 of the exact top
 * 10, so below 20k the exact scan is the better plan; its cost grows linearly, which is what the tenant's own
 * graph is for.
 */
export const EXACT_SEARCH_BELOW = 20_000;

/**
 * ef_search of the HNSW path, pgvector's maximum. It matters most when the tenant's search walks the space's
 * shared graph (a tenant that grew past the threshold before it had an index of its own, until its next
 * write): for a 10k-vector tenant in 100k rows, recall@10 was 0.85 at 400 and 0.93 at 1000, at latencies
 * the loaded machine could not tell apart.
 */
export const HNSW_EF_SEARCH = 1000;

export type SearchPlan = 'exact' | 'hnsw';

/**
 * The search statement for a plan. `exact` scores the tenant's rows in a materialized CTE with no
 * ORDER BY, which an HNSW index cannot answer (it only serves ORDER BY distance LIMIT), so the plan stays
 * exact whatever the table statistics make the planner think. `hnsw` orders by the indexed expression so
 * the space's partial HNSW index can serve it.
 */
export function searchStatement(
  plan: SearchPlan,
  tenantId: TenantId,
  space: EmbeddingSpace,
  vector: readonly number[],
  opts: { limit: number; tags?: readonly string[] | undefined },
): SqlFragment {
  const type = comparedType(space.dimensions).sql;
  const query = vectorText(vector);
  const tags = [...new Set(opts.tags ?? [])];
  const where = sql`tenant_id = ${tenantId} and space = ${embeddingSpaceName(space)}
            ${tags.length > 0 ? sql`and tags && ${tags}::text[]` : sql``}`;
  if (plan === 'exact')
    return sql`
      with scored as materialized (
        select id, chunk_id, source_id, source_version, embedding::${type} <=> ${query}::${type} as distance
        from chunk_vectors where ${where}
      )
      select id, chunk_id, source_id, source_version, 1 - distance as score
      from scored order by distance, id limit ${opts.limit}`;
  return sql`
    select id, chunk_id, source_id, source_version, 1 - (embedding::${type} <=> ${query}::${type}) as score
    from chunk_vectors
    where ${where}
    order by embedding::${type} <=> ${query}::${type}
    limit ${opts.limit}`;
}

/**
 * Counts a tenant's vectors in a space up to `cap` (the tenant btree, at most `cap` entries read): the
 * answer only has to say "below the threshold" or not, so a huge tenant costs no more than the cap.
 */
export function cappedCountStatement(tenantId: TenantId, space: EmbeddingSpace, cap: number): SqlFragment {
  return sql`
    select count(*)::int as n from (
      select 1 from chunk_vectors where tenant_id = ${tenantId} and space = ${embeddingSpaceName(space)} limit ${cap}
    ) t`;
}

interface HitRow {
  id: string;
  chunk_id: string;
  source_id: string;
  source_version: number;
  score: number;
}

const vectorText = (vector: readonly number[]) => `[${vector.join(',')}]`;

/** pgvector ≥ 0.8 can keep scanning the HNSW graph until enough rows pass the tenant filter. */
export function hasIterativeScan(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 0 || minor >= 8;
}

/**
 * VectorStore on PostgreSQL + pgvector (the embedded PGlite mode, and RDS when chosen). Vectors live in
 * `chunk_vectors` under the same row-level security as every tenant table: all data statements run in
 * `db.withTenant`, and also name the tenant explicitly.
 */
export function createPgVectorStore(db: Database, options: PgVectorStoreOptions = {}): Required<VectorStore> {
  let table: Promise<{ iterativeScan: boolean }> | undefined;
  const spaces = new Map<string, Promise<void>>();
  const exactBelow = options.exactSearchBelow ?? EXACT_SEARCH_BELOW;
  const sizeTtl = options.tenantSizeTtlMs ?? 30_000;
  // A tenant's size changes slowly compared with how often it searches; a stale answer only costs speed
  // (exact on a tenant that just grew) or, for one TTL, the HNSW path on a tenant that just shrank.
  const sizes = new Map<string, { n: number; at: number }>();
  const sizeKey = (tenantId: TenantId, space: EmbeddingSpace) => `${tenantId}/${embeddingSpaceName(space)}`;
  function rememberSize(key: string, size: { n: number; at: number }): void {
    if (sizes.size > 10_000) sizes.clear();
    sizes.set(key, size);
  }

  function ensureTable() {
    table ??= db
      .withSystem(ensureChunkVectorsTable)
      .then((version) => ({ iterativeScan: hasIterativeScan(version) }))
      .catch((error: unknown) => {
        table = undefined;
        throw error;
      });
    return table;
  }

  function ensureSpace(space: EmbeddingSpace): Promise<void> {
    const name = embeddingSpaceName(space);
    let pending = spaces.get(name);
    if (!pending) {
      pending = ensureTable()
        .then(() => db.withSystem((tx) => ensureSpaceIndex(tx, name, space.dimensions)))
        .catch((error: unknown) => {
          spaces.delete(name);
          throw error;
        });
      spaces.set(name, pending);
    }
    return pending;
  }

  // Tenant/space pairs whose own HNSW index this process has made sure of.
  const tenantIndexes = new Set<string>();

  /**
   * After a write: a tenant that has reached the exact-search threshold gets its own HNSW index (schema.ts,
   * ensureTenantIndex), which the planner prefers to the space's shared one for that tenant's searches.
   */
  async function indexLargeTenant(tenantId: TenantId, space: EmbeddingSpace, written: number): Promise<void> {
    const key = sizeKey(tenantId, space);
    if (tenantIndexes.has(key)) return;
    // A small tenant's ingestion writes batch after batch: while a recent count plus every point written
    // since (each at most one new vector) stays below the threshold, it is not counted again.
    const known = sizes.get(key);
    if (known && Date.now() - known.at <= sizeTtl && known.n + written < exactBelow) {
      rememberSize(key, { n: known.n + written, at: known.at });
      return;
    }
    const [row] = await db.withTenant(tenantId, (tx) =>
      tx.query<{ n: number }>(cappedCountStatement(tenantId, space, exactBelow)),
    );
    const n = row?.n ?? 0;
    rememberSize(key, { n, at: Date.now() });
    if (n < exactBelow) return;
    try {
      await db.withSystem((tx) =>
        ensureTenantIndex(tx, embeddingSpaceName(space), tenantId, space.dimensions),
      );
      tenantIndexes.add(key);
    } catch {
      // The points are stored; the index only makes the tenant's searches better. Failing the write here
      // would make its ingestion embed the document again. The tenant's next write tries again, and until
      // then its searches walk the space's shared graph.
    }
  }

  const sourceCondition = (tenantId: TenantId, space: EmbeddingSpace, sourceId: string) =>
    sql`tenant_id = ${tenantId} and space = ${embeddingSpaceName(space)} and source_id = ${sourceId}`;

  return {
    ensureSpace,

    async ping() {
      await db.withSystem((tx) => tx.query(sql`select 1`));
    },

    async upsert(tenantId, space, points) {
      if (points.length === 0) return;
      for (const p of points) assertPointFits(space, p);
      await ensureSpace(space);
      // One statement per batch: the points travel as one jsonb document (an object, so that neither
      // driver mistakes the array for a PostgreSQL array).
      const document = {
        points: points.map((p) => ({
          id: p.id,
          source_id: p.sourceId,
          source_version: p.sourceVersion,
          chunk_id: p.chunkId,
          tags: [...new Set(p.tags)],
          embedding: vectorText(p.vector),
        })),
      };
      await db.withTenant(tenantId, (tx) =>
        tx.query(sql`
          insert into chunk_vectors (space, id, tenant_id, source_id, source_version, chunk_id, tags, embedding)
          select ${embeddingSpaceName(space)}, p.id, ${tenantId}, p.source_id, p.source_version, p.chunk_id,
                 array(select jsonb_array_elements_text(p.tags)), p.embedding::vector
          from jsonb_to_recordset(${document}::jsonb -> 'points')
            as p(id uuid, source_id uuid, source_version integer, chunk_id uuid, tags jsonb, embedding text)
          on conflict (space, id) do update set
            source_id = excluded.source_id, source_version = excluded.source_version,
            chunk_id = excluded.chunk_id, tags = excluded.tags, embedding = excluded.embedding
          where chunk_vectors.tenant_id = excluded.tenant_id`),
      );
      await indexLargeTenant(tenantId, space, points.length);
    },

    async search(tenantId, space, vector, opts) {
      assertVectorFits(space, vector, 'query vector');
      const limit = Math.floor(opts.limit);
      if (!(limit >= 1)) return [];
      await ensureSpace(space);
      const { iterativeScan } = await ensureTable();
      const efSearch = Math.min(1000, Math.max(options.efSearch ?? HNSW_EF_SEARCH, limit * 2));
      const key = sizeKey(tenantId, space);
      const rows = await db.withTenant(tenantId, async (tx) => {
        let size = sizes.get(key);
        if (!size || Date.now() - size.at > sizeTtl) {
          const [row] = await tx.query<{ n: number }>(cappedCountStatement(tenantId, space, exactBelow));
          // Stryker disable next-line OptionalChaining: count(*) without GROUP BY always returns one row
          size = { n: row?.n ?? 0, at: Date.now() };
          rememberSize(key, size);
        }
        const plan: SearchPlan = size.n < exactBelow ? 'exact' : 'hnsw';
        if (plan === 'hnsw' && iterativeScan) {
          // Without it, HNSW returns ef_search candidates from all tenants and the tenant filter then drops
          // most of them: a small tenant in a big table would get fewer than `limit` hits, or none.
          await tx.query(
            sql`select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', ${String(efSearch)}, true)`,
          );
        }
        return tx.query<HitRow>(searchStatement(plan, tenantId, space, vector, { limit, tags: opts.tags }));
      });
      const threshold = opts.scoreThreshold ?? Number.NEGATIVE_INFINITY;
      return rows
        .map(
          (r): VectorHit => ({
            id: r.id,
            chunkId: r.chunk_id,
            sourceId: r.source_id,
            sourceVersion: r.source_version,
            score: Number(r.score),
          }),
        )
        .filter((hit) => hit.score >= threshold)
        .sort((a, b) => b.score - a.score); // relaxed_order may return neighbours slightly out of order
    },

    async deleteBySource(tenantId, space, sourceId, opts) {
      await ensureSpace(space);
      if (!isUuid(sourceId)) return; // no row can match, and the uuid column would reject the value
      const except = opts?.exceptVersion;
      await db.withTenant(tenantId, (tx) =>
        tx.query(sql`
          delete from chunk_vectors where ${sourceCondition(tenantId, space, sourceId)}
            ${except === undefined ? sql`` : sql`and source_version <> ${except}`}`),
      );
    },

    async countBySource(tenantId, space, sourceId, opts) {
      await ensureSpace(space);
      if (!isUuid(sourceId)) return 0;
      const version = opts?.version;
      const [row] = await db.withTenant(tenantId, (tx) =>
        tx.query<{ count: number }>(sql`
          select count(*)::int as count from chunk_vectors where ${sourceCondition(tenantId, space, sourceId)}
            ${version === undefined ? sql`` : sql`and source_version = ${version}`}`),
      );
      // Stryker disable next-line OptionalChaining: count(*) without GROUP BY always returns one row
      return row?.count ?? 0;
    },
  };
}
