import type { TenantId } from '../../domain/ids.ts';
import type { Database } from '../../ports/database.ts';
import type { Embedder } from '../../ports/embedder.ts';
import type { VectorStore } from '../../ports/vector-store.ts';
import { findChunks, type StoredChunk, searchChunksFullText } from '../../repositories/chunks.ts';
import { type FusionMethod, fuse, type ScoredId } from './fusion.ts';
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
 * Cranfield dev split (docs/performance.md, "Choosing the fusion"). A semantic embedding model could not
 * be measured here; it gets plain RRF with equal votes, the method that needs no score calibration.
 */
export function fusionFor(embedder: Embedder): FusionMethod {
  return embedder.space.provider === 'offline' ? OFFLINE_FUSION : { kind: 'rrf', denseWeight: 1 };
}

export const OFFLINE_FUSION: FusionMethod = { kind: 'agreement', denseWeight: 0.8 };

export interface RetrievalCandidates {
  /** Vector-store hits, best first, score = cosine similarity. */
  readonly dense: ScoredId[];
  /** Full-text hits, best first, score = BM25. */
  readonly lexical: ScoredId[];
  /** Vector-store hits the bot's score threshold removed (a trace reports them). */
  readonly belowThreshold: ScoredId[];
  readonly embeddingTokens: number;
}

/** Both retrievers' candidate lists for one question, tenant-filtered (and by the bot's tags). */
export async function retrieveCandidates(
  tenantId: TenantId,
  query: string,
  options: Pick<RetrievalOptions, 'tags' | 'scoreThreshold' | 'mode'> & { readonly candidates: number },
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
        searchChunksFullText(tx, tenantId, query, { limit: options.candidates, tags }),
      ),
    );
    return hits.map((h) => ({ id: h.id, score: h.rank }));
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
  const fused = fuse(found.dense, found.lexical, options.fusion ?? fusionFor(deps.embedder)).map(
    (c) => [c.id, c.score] as const,
  );
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
