import type { TenantId } from '../../domain/ids.ts';
import type { Database, Queryable } from '../../ports/database.ts';
import type { Embedder } from '../../ports/embedder.ts';
import type { VectorStore } from '../../ports/vector-store.ts';
import {
  chunkTermFrequencies,
  findChunks,
  queryTerms,
  type StoredChunk,
  searchChunksFullText,
} from '../../repositories/chunks.ts';
import { type FusionMethod, fuse, type ScoredId } from './fusion.ts';
import { expandQuery, type FeedbackSettings, RM3_DEFAULTS } from './query-expansion.ts';
import { noTrace, type TraceRecorder } from './trace-recorder.ts';

export type RetrievalMode = 'hybrid' | 'dense' | 'lexical';

export interface RetrievalOptions {
  readonly topK: number;
  readonly tags?: readonly string[] | undefined;
  readonly scoreThreshold?: number | null | undefined;
  readonly mode?: RetrievalMode;
  /** How many candidates each retriever contributes before fusion. */
  readonly candidates?: number;
  /** Overrides the embedder's fusion method (evaluation). */
  readonly fusion?: FusionMethod;
  /** Overrides the lexical scoring (evaluation). */
  readonly lexical?: LexicalScoring;
}

/** How the lexical side scores: the title field's weight, and pseudo-relevance feedback or none. */
export interface LexicalScoring {
  /** BM25F weight of the title field (source title and section heading) against the text; 0 ignores it. */
  readonly titleWeight: number;
  readonly feedback: FeedbackSettings | null;
}

/**
 * The product's lexical scoring, chosen by 5-fold cross-validation on the Cranfield dev split
 * (docs/performance.md, "Lexical scoring"). RM3 feedback is a bot's choice (`retrieval.query_expansion`):
 * it raised held-out nDCG@10 by 0.024 there, but runs three more statements and a wider search, about
 * three times the lexical search's time, which every question of every bot would pay.
 */
export const LEXICAL_SCORING: LexicalScoring = { titleWeight: 1, feedback: null };

/** The lexical scoring of a bot that asked for query expansion. */
export const EXPANDED_LEXICAL_SCORING: LexicalScoring = { ...LEXICAL_SCORING, feedback: RM3_DEFAULTS };

export function describeLexicalScoring(scoring: LexicalScoring): string {
  const title = scoring.titleWeight === 0 ? 'BM25' : `BM25F title × ${scoring.titleWeight}`;
  const f = scoring.feedback;
  return f ? `${title} + RM3 (${f.docs} hits, ${f.terms} terms, λ ${f.originalWeight})` : title;
}

/**
 * The lexical scorings `minirag eval --cv` chooses among: title field weights (0 = plain BM25 over the
 * text) with and without RM3 feedback at Anserini's defaults. Plain BM25 comes first: it is the baseline
 * the others must beat on held-out queries.
 */
export function lexicalScoringCandidates(): LexicalScoring[] {
  const weights = [0, 0.5, 1, 2, 4];
  return [null, RM3_DEFAULTS].flatMap((feedback) =>
    weights.map((titleWeight): LexicalScoring => ({ titleWeight, feedback })),
  );
}

export interface RetrievedChunk extends StoredChunk {
  /** Fused score (higher is better); its scale depends on the fusion method. */
  readonly score: number;
}

export interface RetrievalResult {
  readonly chunks: RetrievedChunk[];
  readonly embeddingTokens: number;
}

/**
 * The fusion each kind of embedder gets. The offline embedder is a hashed bag of words — a noisier copy
 * of the lexical signal — and its method and weight were chosen by 5-fold cross-validation on the
 * Cranfield dev split (docs/performance.md, "Choosing the fusion"), over the lexical list it is fused with:
 * a list widened by query expansion already holds more of what the dense side would add, so it takes a
 * smaller dense weight. A semantic embedding model could not be measured here; it gets plain RRF with equal
 * votes, the method that needs no score calibration.
 */
export function fusionFor(embedder: Embedder, lexical: LexicalScoring = LEXICAL_SCORING): FusionMethod {
  if (embedder.space.provider !== 'offline') return { kind: 'rrf', denseWeight: 1 };
  return lexical.feedback ? OFFLINE_EXPANDED_FUSION : OFFLINE_FUSION;
}

export const OFFLINE_FUSION: FusionMethod = { kind: 'agreement', denseWeight: 0.5 };
export const OFFLINE_EXPANDED_FUSION: FusionMethod = { kind: 'agreement', denseWeight: 0.3 };

export interface RetrievalCandidates {
  /** Vector-store hits, best first, score = cosine similarity. */
  readonly dense: ScoredId[];
  /** Full-text hits, best first, score = BM25. */
  readonly lexical: ScoredId[];
  /** Vector-store hits the bot's score threshold removed (a trace reports them). */
  readonly belowThreshold: ScoredId[];
  readonly embeddingTokens: number;
}

/**
 * Full-text candidates under a lexical scoring. With feedback: a first search for the top hits, their
 * words, and a second search with the expanded query (three statements in the caller's transaction).
 */
export async function searchLexical(
  tx: Queryable,
  tenantId: TenantId,
  query: string,
  options: { limit: number; tags?: readonly string[] | undefined; scoring: LexicalScoring },
): Promise<ScoredId[]> {
  const { titleWeight, feedback } = options.scoring;
  const search = { tags: options.tags, titleWeight };
  let terms: string | Map<string, number> = query;
  if (feedback) {
    const question = await queryTerms(tx, query);
    const top = await searchChunksFullText(tx, tenantId, question, { ...search, limit: feedback.docs });
    const words = await chunkTermFrequencies(
      tx,
      tenantId,
      top.map((h) => h.id),
      titleWeight,
    );
    terms = expandQuery(
      question,
      top.map((h) => ({ score: h.rank, terms: words.get(h.id) ?? new Map<string, number>() })),
      feedback,
    );
  }
  const hits = await searchChunksFullText(tx, tenantId, terms, { ...search, limit: options.limit });
  return hits.map((h) => ({ id: h.id, score: h.rank }));
}

/** Both retrievers' candidate lists for one question, tenant-filtered (and by the bot's tags). */
export async function retrieveCandidates(
  tenantId: TenantId,
  query: string,
  options: Pick<RetrievalOptions, 'tags' | 'scoreThreshold' | 'mode' | 'lexical'> & {
    readonly candidates: number;
  },
  deps: { db: Database; embedder: Embedder; vectorStore: VectorStore },
  trace: TraceRecorder = noTrace,
): Promise<RetrievalCandidates> {
  const mode = options.mode ?? 'hybrid';
  const tags = options.tags?.length ? options.tags : undefined;
  const threshold = options.scoreThreshold ?? null;
  const dense = async () => {
    if (mode === 'lexical') return { hits: [] as ScoredId[], belowThreshold: [] as ScoredId[], tokens: 0 };
    const embedded = await trace.time('embed', () => deps.embedder.embed([query], { purpose: 'query' }));
    // The threshold is applied here rather than in the store (the same hits: the store ranks by score
    // before it cuts at `limit`), so a trace can say which candidates it removed.
    const found = await trace.time('dense', () =>
      deps.vectorStore.search(tenantId, deps.embedder.space, embedded.vectors[0]!, {
        limit: options.candidates,
        ...(tags ? { tags } : {}),
      }),
    );
    const all = found.map((h) => ({ id: h.chunkId, score: h.score }));
    return {
      hits: threshold === null ? all : all.filter((h) => h.score >= threshold),
      belowThreshold: threshold === null ? [] : all.filter((h) => h.score < threshold),
      tokens: embedded.inputTokens,
    };
  };
  const lexical = async (): Promise<ScoredId[]> => {
    if (mode === 'dense') return [];
    const hits = await trace.time('lexical', () =>
      deps.db.withTenant(tenantId, (tx) =>
        searchLexical(tx, tenantId, query, {
          limit: options.candidates,
          tags,
          scoring: options.lexical ?? LEXICAL_SCORING,
        }),
      ),
    );
    return hits;
  };
  const [denseResult, lexicalHits] = await Promise.all([dense(), lexical()]);
  return {
    dense: denseResult.hits,
    lexical: lexicalHits,
    belowThreshold: denseResult.belowThreshold,
    embeddingTokens: denseResult.tokens,
  };
}

/**
 * Hybrid retrieval: dense top-k from the vector store and PostgreSQL full-text top-k, fused by the
 * embedder's fusion method (`fusionFor`). Both sides are filtered by tenant (and the bot's tags); chunks of versions
 * being replaced or of deleted sources are dropped when the rows are read.
 */
export async function retrieveContext(
  tenantId: TenantId,
  query: string,
  options: RetrievalOptions,
  deps: { db: Database; embedder: Embedder; vectorStore: VectorStore },
  trace: TraceRecorder = noTrace,
): Promise<RetrievalResult> {
  const candidates = options.candidates ?? Math.max(options.topK * 4, 20);
  const found = await retrieveCandidates(tenantId, query, { ...options, candidates }, deps, trace);
  const fusionStart = trace.now();
  const fused = fuse(
    found.dense,
    found.lexical,
    options.fusion ?? fusionFor(deps.embedder, options.lexical),
  ).map((c) => [c.id, c.score] as const);
  // Read a few more than topK: some ids may belong to versions that are no longer current.
  const wanted = fused.slice(0, options.topK * 2);
  const rows = await deps.db.withTenant(tenantId, (tx) =>
    findChunks(
      tx,
      tenantId,
      wanted.map(([id]) => id),
    ),
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const chunks: RetrievedChunk[] = [];
  for (const [id, score] of wanted) {
    const chunk = byId.get(id);
    if (chunk) chunks.push({ ...chunk, score });
    if (chunks.length === options.topK) break;
  }
  trace.span('fusion', fusionStart, trace.now());
  trace.retrieval(
    {
      dense: found.dense,
      belowThreshold: found.belowThreshold,
      lexical: found.lexical,
      fused,
      lookedUp: wanted.length,
      rows: byId,
      returned: chunks,
    },
    candidates,
  );
  return { chunks, embeddingTokens: found.embeddingTokens };
}
