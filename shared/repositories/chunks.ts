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
  /** The Markdown heading of the section the chunk starts in ('' before the first heading, or none). */
  readonly sectionHeading?: string;
}

/** A chunk as retrieval sees it, with what a citation needs. */
export interface StoredChunk extends NewChunk {
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly sourceTitle: string;
  /** The source's web address, when it came from one (a citation links to it). */
  readonly sourceUrl?: string | null;
}

// Large batches keep the number of statements (and WASM round trips in PGlite) low; 500 rows × 10 params
// stays far below PostgreSQL's 65,535 bind-parameter limit.
const INSERT_BATCH = 500;

/**
 * Writes one version's chunks (idempotent: deterministic ids, `on conflict do update`) and removes the
 * source's other versions. Runs inside the transaction that marks the source COMPLETED. Each chunk also
 * keeps its source's title, which the full-text index weighs as a field of its own.
 */
export async function replaceSourceChunks(
  tx: Queryable,
  tenantId: TenantId,
  sourceId: string,
  version: number,
  chunks: readonly NewChunk[],
): Promise<void> {
  const [source] = await tx.query<{ title: string }>(
    sql`select title from sources where tenant_id = ${tenantId} and id = ${sourceId}`,
  );
  const title = source?.title ?? '';
  for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
    const rows = chunks.slice(i, i + INSERT_BATCH).map(
      (c) =>
        sql`(${c.id}::uuid, ${tenantId}::uuid, ${sourceId}::uuid, ${version}::int, ${c.ordinal}::int, ${c.content},
               ${c.startOffset}::int, ${c.endOffset}::int, ${c.tokenCount}::int, ${title}, ${c.sectionHeading ?? ''})`,
    );
    await tx.query(sql`
      insert into chunks (id, tenant_id, source_id, source_version, ordinal, content, start_offset, end_offset, token_count,
                          source_title, section_heading)
      values ${joinSql(rows, sql`, `)}
      on conflict (id) do update set content = excluded.content, start_offset = excluded.start_offset,
        end_offset = excluded.end_offset, token_count = excluded.token_count,
        source_title = excluded.source_title, section_heading = excluded.section_heading`);
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

/** Query lexemes with a weight each: a question's own (weight 1), or a feedback-expanded query's. */
export type WeightedTerms = ReadonlyMap<string, number>;

export interface FullTextOptions {
  readonly limit: number;
  readonly tags?: readonly string[] | undefined;
  /**
   * How much one occurrence in the chunk's title field (its source's title and section heading) counts
   * against one in its text: BM25F's field weight. 0 leaves the title field out entirely: only the text is
   * matched, counted and measured, as before the field existed.
   */
  readonly titleWeight?: number | undefined;
}

/**
 * A chunk's term frequency under the field weight: occurrences in the text (weight D) plus `titleWeight`
 * × occurrences in the title field (weight A), from one `unnest(tsvector)` row.
 */
function weightedTf(titleWeight: number) {
  const all = sql`coalesce(array_length(u.positions, 1), 1)::float8`;
  const inTitle = sql`coalesce(cardinality(array_positions(u.weights, 'A')), 0)::float8`;
  return titleWeight === 0
    ? sql`(${all} - ${inTitle})`
    : sql`(${all} - ${inTitle} + ${titleWeight}::float8 * ${inTitle})`;
}

/**
 * A chunk's length under the field weight: distinct lexemes of its text plus the weighted title field's
 * (stored columns, so the tenant's average reads no tsvector).
 */
function weightedLength(titleWeight: number) {
  return titleWeight === 0
    ? sql`c.text_lexemes::float8`
    : sql`(c.text_lexemes + ${titleWeight}::float8 * c.title_lexemes)`;
}

/** The question's distinct lexemes (english stemming, stop words removed), each with weight 1. */
export async function queryTerms(tx: Queryable, query: string): Promise<WeightedTerms> {
  const rows = await tx.query<{ lexeme: string }>(
    sql`select distinct lexeme from unnest(to_tsvector('english', ${query})) as t(lexeme, positions, weights)`,
  );
  return new Map(rows.map((r) => [r.lexeme, 1]));
}

/**
 * Full-text top-k with BM25 over the chunks' `tsvector` (english stemming and stop words), tenant-filtered,
 * optional tags. PostgreSQL's own `ts_rank_cd` has no inverse document frequency, so a common word weighs
 * as much as a rare one; BM25 is computed here from the tenant's own statistics: document frequency per
 * query term (GIN index lookups) and the average chunk length (in distinct lexemes, as `length(tsvector)`
 * counts them). With a title weight, term frequency and length are BM25F's: each field's counts summed
 * with its weight (Robertson, Zaragoza & Taylor 2004). `query` is the question's text, or weighted
 * lexemes (an expanded query: each term's BM25 score is multiplied by its weight). Only chunks of current
 * source versions are candidates.
 */
export async function searchChunksFullText(
  tx: Queryable,
  tenantId: TenantId,
  query: string | WeightedTerms,
  options: FullTextOptions,
): Promise<{ id: string; rank: number }[]> {
  const tagFilter = options.tags?.length ? sql` and s.tags && ${[...options.tags]}::text[]` : sql``;
  const titleWeight = options.titleWeight ?? 0;
  if (!(titleWeight >= 0 && Number.isFinite(titleWeight))) throw new RangeError('titleWeight must be ≥ 0');
  // Lexemes are already stemmed by the english config, so they are quoted and parsed with 'simple' (no
  // second stemming, and no tsquery syntax can come from user text). Without the title field a term
  // matches text positions only (`:D`), so a word only in a title neither finds a chunk nor counts in
  // its document frequency.
  const only = titleWeight === 0 ? sql`':D'` : sql`''`;
  const terms =
    typeof query === 'string'
      ? sql`select distinct lexeme, 1::float8 as weight
            from unnest(to_tsvector('english', ${query})) as t(lexeme, positions, weights)`
      : sql`select lexeme, weight from unnest(${[...query.keys()]}::text[], ${[...query.values()]}::float8[])
              as t(lexeme, weight) where weight > 0`;
  // ts_rank's weights are {D, C, B, A}, each at most 1: the same ratio of title to text as BM25F's.
  const scale = Math.max(1, titleWeight);
  const rankWeights = [1 / scale, 0, 0, titleWeight / scale];
  return tx.query<{ id: string; rank: number }>(sql`
    with terms as materialized (
      select lexeme, weight, to_tsquery('simple', quote_literal(lexeme) || ${only}) as tq from (${terms}) as t
    ),
    corpus as materialized (
      select count(*)::float8 as n, coalesce(avg(${weightedLength(titleWeight)}), 1)::float8 as avgdl
      from chunks c where c.tenant_id = ${tenantId}
    ),
    term_stats as materialized (
      select t.lexeme, t.weight,
             (select count(*) from chunks c where c.tenant_id = ${tenantId} and c.tsv @@ t.tq)::float8 as df
      from terms t
    ),
    any_term as materialized (
      select to_tsquery('simple', string_agg(quote_literal(lexeme) || ${only}, ' | ')) as q from terms
    ),
    matches as (
      -- BM25 needs each candidate's term frequencies (an unnest of its tsvector, the costly part), so the
      -- candidates are first cut to a pool by PostgreSQL's own ts_rank, computed in C.
      select c.id, c.tsv, ${weightedLength(titleWeight)} as dl
      from chunks c
      join sources s on s.tenant_id = c.tenant_id and s.id = c.source_id and s.version = c.source_version
      cross join any_term
      where c.tenant_id = ${tenantId} and c.tsv @@ any_term.q ${tagFilter}
      order by ts_rank(${rankWeights}::float4[], c.tsv, any_term.q, 1) desc
      limit ${Math.max(options.limit * 3, 300)}
    )
    select m.id,
           sum(ts.weight * ln(1 + (corpus.n - ts.df + 0.5) / (ts.df + 0.5))
               * (u.tf * (${BM25_K1}::float8 + 1))
               / (u.tf + ${BM25_K1}::float8 * (1 - ${BM25_B}::float8 + ${BM25_B}::float8 * m.dl / corpus.avgdl)))::float8 as rank
    from matches m
    cross join corpus
    cross join lateral (
      select u.lexeme, ${weightedTf(titleWeight)} as tf from unnest(m.tsv) as u
    ) u
    join term_stats ts on ts.lexeme = u.lexeme
    group by m.id
    having sum(u.tf) > 0
    order by rank desc, m.id
    limit ${options.limit}`);
}

/**
 * Each chunk's lexemes with their term frequency under the field weight (as `searchChunksFullText`
 * counts them): what pseudo-relevance feedback reads from the top hits. Tenant-filtered.
 */
export async function chunkTermFrequencies(
  tx: Queryable,
  tenantId: TenantId,
  ids: readonly string[],
  titleWeight: number,
): Promise<Map<string, Map<string, number>>> {
  const byChunk = new Map<string, Map<string, number>>();
  if (ids.length === 0) return byChunk;
  const rows = await tx.query<{ id: string; lexeme: string; tf: number }>(sql`
    select c.id, u.lexeme, ${weightedTf(titleWeight)} as tf
    from chunks c cross join lateral unnest(c.tsv) as u
    where c.tenant_id = ${tenantId} and c.id = any(${[...ids]}::uuid[])`);
  for (const r of rows) {
    if (r.tf <= 0) continue;
    const terms = byChunk.get(r.id) ?? new Map<string, number>();
    terms.set(r.lexeme, r.tf);
    byChunk.set(r.id, terms);
  }
  return byChunk;
}
