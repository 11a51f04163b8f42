import { joinSql, sql } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';

export interface NewChunk {
  readonly id: string;
  readonly ordinal: number;
  readonly content: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly tokenCount: number;
}

/** A chunk as retrieval sees it, with what a citation needs. */
export interface StoredChunk extends NewChunk {
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly sourceTitle: string;
  /** The source's web address, when it came from one (a citation links to it). */
  readonly sourceUrl?: string | null;
}

// Large batches keep the number of statements (and WASM round trips in PGlite) low; 500 rows × 7 params
// stays far below PostgreSQL's 65,535 bind-parameter limit.
const INSERT_BATCH = 500;

/**
 * Writes one version's chunks (idempotent: deterministic ids, `on conflict do update`) and removes the
 * source's other versions. Runs inside the transaction that marks the source COMPLETED.
 */
export async function replaceSourceChunks(
  tx: Queryable,
  tenantId: TenantId,
  sourceId: string,
  version: number,
  chunks: readonly NewChunk[],
): Promise<void> {
  for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
    const rows = chunks.slice(i, i + INSERT_BATCH).map(
      (c) =>
        sql`(${c.id}::uuid, ${tenantId}::uuid, ${sourceId}::uuid, ${version}::int, ${c.ordinal}::int, ${c.content},
               ${c.startOffset}::int, ${c.endOffset}::int, ${c.tokenCount}::int)`,
    );
    await tx.query(sql`
      insert into chunks (id, tenant_id, source_id, source_version, ordinal, content, start_offset, end_offset, token_count)
      values ${joinSql(rows, sql`, `)}
      on conflict (id) do update set content = excluded.content, start_offset = excluded.start_offset,
        end_offset = excluded.end_offset, token_count = excluded.token_count`);
  }
  await tx.query(sql`
    delete from chunks where tenant_id = ${tenantId} and source_id = ${sourceId} and source_version <> ${version}`);
}

export async function countSourceChunks(
  tx: Queryable,
  tenantId: TenantId,
  sourceId: string,
): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    sql`select count(*)::int as n from chunks where tenant_id = ${tenantId} and source_id = ${sourceId}`,
  );
  return row?.n ?? 0;
}

interface ChunkRow {
  id: string;
  source_id: string;
  source_version: number;
  source_title: string;
  source_url: string | null;
  ordinal: number;
  content: string;
  start_offset: number;
  end_offset: number;
  token_count: number;
}

const toChunk = (r: ChunkRow): StoredChunk => ({
  id: r.id,
  sourceId: r.source_id,
  sourceVersion: r.source_version,
  sourceTitle: r.source_title,
  sourceUrl: r.source_url,
  ordinal: r.ordinal,
  content: r.content,
  startOffset: r.start_offset,
  endOffset: r.end_offset,
  tokenCount: r.token_count,
});

/**
 * The chunks with these ids that belong to the source's CURRENT version and a completed source: vectors
 * of a version being replaced, or of a deleted source, are dropped here.
 */
export async function findChunks(
  tx: Queryable,
  tenantId: TenantId,
  ids: readonly string[],
): Promise<StoredChunk[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<ChunkRow>(sql`
    select c.id, c.source_id, c.source_version, s.title as source_title, s.url as source_url, c.ordinal, c.content, c.start_offset,
           c.end_offset, c.token_count
    from chunks c join sources s on s.tenant_id = c.tenant_id and s.id = c.source_id and s.version = c.source_version
    where c.tenant_id = ${tenantId} and c.id = any(${[...ids]}::uuid[])`);
  return rows.map(toChunk);
}

/** BM25 parameters, as the reference runs in shared/data use (Robertson/Zaragoza; Lucene uses 1.2/0.75). */
const BM25_K1 = 0.9;
const BM25_B = 0.4;

/**
 * Full-text top-k with BM25 over the chunks' `tsvector` (english stemming and stop words), tenant-filtered,
 * optional tags. PostgreSQL's own `ts_rank_cd` has no inverse document frequency, so a common word weighs
 * as much as a rare one; BM25 is computed here from the tenant's own statistics: document frequency per
 * query term (GIN index lookups) and the average chunk length (in distinct lexemes, as `length(tsvector)`
 * counts them). Only chunks of current source versions are candidates.
 */
export async function searchChunksFullText(
  tx: Queryable,
  tenantId: TenantId,
  query: string,
  options: { limit: number; tags?: readonly string[] | undefined },
): Promise<{ id: string; rank: number }[]> {
  const tagFilter = options.tags?.length ? sql` and s.tags && ${[...options.tags]}::text[]` : sql``;
  // The question's lexemes are already stemmed by the english config, so they are quoted and parsed with
  // 'simple' (no second stemming, and no tsquery syntax can come from user text).
  return tx.query<{ id: string; rank: number }>(sql`
    with terms as materialized (
      select distinct lexeme, to_tsquery('simple', quote_literal(lexeme)) as tq
      from unnest(to_tsvector('english', ${query})) as t(lexeme, positions, weights)
    ),
    corpus as materialized (
      select count(*)::float8 as n, coalesce(avg(length(tsv)), 1)::float8 as avgdl
      from chunks where tenant_id = ${tenantId}
    ),
    term_stats as materialized (
      select t.lexeme,
             (select count(*) from chunks c where c.tenant_id = ${tenantId} and c.tsv @@ t.tq)::float8 as df
      from terms t
    ),
    any_term as materialized (
      select to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) as q from terms
    ),
    matches as (
      -- BM25 needs each candidate's term frequencies (an unnest of its tsvector, the costly part), so the
      -- candidates are first cut to a pool by PostgreSQL's own ts_rank, computed in C.
      select c.id, c.tsv, length(c.tsv)::float8 as dl
      from chunks c
      join sources s on s.tenant_id = c.tenant_id and s.id = c.source_id and s.version = c.source_version
      cross join any_term
      where c.tenant_id = ${tenantId} and c.tsv @@ any_term.q ${tagFilter}
      order by ts_rank(c.tsv, any_term.q, 1) desc
      limit ${Math.max(options.limit * 3, 300)}
    )
    select m.id,
           sum(ln(1 + (corpus.n - ts.df + 0.5) / (ts.df + 0.5))
               * (u.tf * (${BM25_K1}::float8 + 1))
               / (u.tf + ${BM25_K1}::float8 * (1 - ${BM25_B}::float8 + ${BM25_B}::float8 * m.dl / corpus.avgdl)))::float8 as rank
    from matches m
    cross join corpus
    cross join lateral (
      select lexeme, coalesce(array_length(positions, 1), 1)::float8 as tf from unnest(m.tsv)
    ) u
    join term_stats ts on ts.lexeme = u.lexeme
    group by m.id
    order by rank desc, m.id
    limit ${options.limit}`);
}
