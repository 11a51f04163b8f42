import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import { joinSql, sql } from '../ports/sql.ts';

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
    select c.id, c.source_id, c.source_version, s.title as source_title, c.ordinal, c.content, c.start_offset,
           c.end_offset, c.token_count
    from chunks c join sources s on s.tenant_id = c.tenant_id and s.id = c.source_id and s.version = c.source_version
    where c.tenant_id = ${tenantId} and c.id = any(${[...ids]}::uuid[])`);
  return rows.map(toChunk);
}

/** Full-text top-k (PostgreSQL `ts_rank_cd` over the chunks' tsvector), tenant-filtered, optional tags. */
export async function searchChunksFullText(
  tx: Queryable,
  tenantId: TenantId,
  query: string,
  options: { limit: number; tags?: readonly string[] | undefined },
): Promise<{ id: string; rank: number }[]> {
  const tagFilter = options.tags?.length ? sql` and s.tags && ${[...options.tags]}::text[]` : sql``;
  // OR-ing the question's lexemes (instead of websearch's AND) keeps recall for natural-language
  // questions. The lexemes are already stemmed by the english config, so they are quoted and parsed
  // with 'simple' (no second stemming, no tsquery syntax from user text).
  return tx.query<{ id: string; rank: number }>(sql`
    with q as (
      select to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) as query
      from unnest(to_tsvector('english', ${query})) as t(lexeme, positions, weights)
    )
    select c.id, ts_rank_cd(c.tsv, q.query, 1)::float8 as rank
    from chunks c
    join sources s on s.tenant_id = c.tenant_id and s.id = c.source_id and s.version = c.source_version
    cross join q
    where c.tenant_id = ${tenantId} and q.query is not null and c.tsv @@ q.query ${tagFilter}
    order by rank desc, c.id
    limit ${options.limit}`);
}
