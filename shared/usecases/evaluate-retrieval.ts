import type { AuthContext } from '../domain/auth-context.ts';
import type { RerankSettings } from '../domain/bot.ts';
import type { BeirDataset } from '../eval/beir-dataset.ts';
import {
  type CrossValidationReport,
  crossValidateFusion,
  crossValidateSelection,
  type RecordedQuery,
  type ScoredCandidate,
  type SelectionReport,
  scoreRankings,
} from '../eval/cross-validation.ts';
import { type CorpusIngestDeps, type IngestedCorpus, ingestCorpus } from '../eval/ingest-corpus.ts';
import { countRelevant, documentRanking, mean, ndcgAtK, recallAtK } from '../eval/metrics.ts';
import { comparePaired, type PairedComparison } from '../eval/paired-comparison.ts';
import type { Embedder } from '../ports/embedder.ts';
import { findChunks } from '../repositories/chunks.ts';
import { describeFusion, fuse, fusionCandidates, type ScoredId } from './answering/fusion.ts';
import type { RerankerFor } from './answering/rerank-candidates.ts';
import {
  describeLexicalScoring,
  type LexicalScoring,
  type RetrievalMode,
  type RetrievedChunk,
  retrieveCandidates,
  retrieveContext,
} from './answering/retrieve-context.ts';

export interface RetrievalRun {
  readonly label: string;
  readonly mode: RetrievalMode;
  /** Chunks asked of retrieveContext: enough that ≥ 100 distinct documents remain after mapping. */
  readonly topK: number;
  /** Candidates each retriever contributes before fusion (retrieveContext's `candidates`). */
  readonly candidates: number;
  /** Reorders the retrieved chunks with a rerank model (its topN are the ranking scored). */
  readonly rerank?: RerankSettings;
}

/** A hybrid run whose top 100 chunks a rerank model reorders: what `minirag eval --rerank` adds. */
export function rerankRun(settings: Omit<RerankSettings, 'topN'>): RetrievalRun {
  return {
    label: `hybrid + rerank (${settings.provider}/${settings.model})`,
    mode: 'hybrid',
    topK: 100,
    candidates: 200,
    rerank: { ...settings, topN: 100 },
  };
}

/** Lexical, dense and hybrid (RRF), each deep enough for Recall@100. */
export const STANDARD_RUNS: readonly RetrievalRun[] = [
  { label: 'lexical (PostgreSQL full text)', mode: 'lexical', topK: 200, candidates: 200 },
  { label: 'dense (embedder + pgvector)', mode: 'dense', topK: 200, candidates: 200 },
  { label: 'hybrid (fused)', mode: 'hybrid', topK: 200, candidates: 200 },
];

export interface RunScores {
  readonly run: RetrievalRun;
  readonly ndcgAt10: number;
  readonly recallAt10: number;
  readonly recallAt100: number;
  /** Queries whose ranking held fewer than 100 documents (recall@100 computed on what there was). */
  readonly shortRankings: number;
  readonly seconds: number;
  /** Mean wall time of one `retrieveContext` call (embedding, both searches, fusion, chunk rows). */
  readonly meanQueryMs: number;
  /** Per-query figures, so two reports can be compared query by query (`minirag eval --compare`). */
  readonly perQuery: QueryScores[];
}

export interface QueryScores {
  readonly id: string;
  readonly ndcgAt10: number;
  readonly recallAt100: number;
  readonly ms: number;
}

export interface EvaluationReport {
  readonly dataset: { name: string; split: string; documents: number; queries: number };
  readonly embedding: Embedder['space'];
  readonly ingest: Omit<IngestedCorpus, 'documentsBySource'> & { seconds: number };
  readonly queries: {
    readonly evaluated: number;
    /** Queries of the file with no relevant judgement in this split (or in the documents kept). */
    readonly skippedNoRelevant: number;
    /** Judged query ids missing from queries.jsonl. */
    readonly judgedWithoutText: number;
  };
  readonly runs: RunScores[];
  readonly crossValidation?: CrossValidationReport;
  readonly lexicalScoring?: LexicalScoringReport;
}

/**
 * Cross-validation of the lexical scoring (title field weight, RM3 feedback) on the same folds as the
 * fusion's: chosen alone against plain BM25, and jointly with the fusion against the fusion chosen over
 * plain BM25 (what the product did without these options).
 */
export interface LexicalScoringReport {
  /** Mean wall time of one lexical search under each scoring (loaded machines inflate all alike). */
  readonly meanQueryMs: { label: string; ms: number }[];
  /** Lexical scorings chosen on the training folds; baseline plain BM25. */
  readonly lexical: SelectionReport;
  /** Fusion methods over plain BM25 chosen on the training folds; baseline plain BM25. */
  readonly fusionOnly: SelectionReport;
  /**
   * Every (lexical scoring, fusion method) pair chosen on the training folds, each fusion held to its own
   * lexical list's Recall@100; baseline plain BM25.
   */
  readonly joint: SelectionReport;
  /** Joint choice against the fusion-only choice, fold by fold and query by query (held out). */
  readonly jointOverFusionOnly: JointComparison;
  /**
   * Each option on its own: the title weights without feedback, and feedback without the title field,
   * chosen alone (lexical) and with the fusion (joint), against plain BM25 and the fusion-only choice.
   */
  readonly ablations: {
    readonly name: 'title field only' | 'RM3 only';
    readonly lexical: SelectionReport;
    readonly joint: SelectionReport;
    readonly jointOverFusionOnly: JointComparison;
  }[];
}

export interface JointComparison {
  readonly perFold: { fold: number; gain: number }[];
  readonly meanGain: number;
  readonly comparison: PairedComparison;
}

export type EvaluationDeps = CorpusIngestDeps & {
  readonly embedder: Embedder;
  readonly rerankerFor?: RerankerFor | undefined;
};

export interface EvaluationOptions {
  readonly runs?: readonly RetrievalRun[];
  readonly onQueryProgress?: (run: RetrievalRun, done: number, total: number) => void;
  /**
   * Also records both candidate lists per query and cross-validates the fusion over them; with
   * `lexicalScorings`, records the lexical list under each and cross-validates the choice among them.
   */
  readonly crossValidation?: {
    readonly folds: number;
    readonly seed?: number;
    /** The first is the baseline (plain BM25). */
    readonly lexicalScorings?: readonly LexicalScoring[];
  };
}

/**
 * Retrieval quality of the real platform on a BEIR test collection: ingests the corpus into the caller's
 * (fresh) tenant through the real pipeline, runs every judged query through `retrieveContext` in each
 * mode, maps chunks to documents (best chunk's rank), and scores nDCG@10, Recall@10 and Recall@100
 * as trec_eval does.
 */
export async function evaluateRetrieval(
  auth: AuthContext,
  dataset: BeirDataset,
  options: EvaluationOptions,
  deps: EvaluationDeps,
): Promise<EvaluationReport> {
  const ingestStart = performance.now();
  const { documentsBySource, ...ingested } = await ingestCorpus(auth, dataset.corpus, deps);
  const ingestSeconds = (performance.now() - ingestStart) / 1000;

  const evaluated = dataset.queries.filter((q) => countRelevant(dataset.qrels.get(q.id) ?? new Map()) > 0);
  const withText = new Set(dataset.queries.map((q) => q.id));
  const judgedWithoutText = [...dataset.qrels.keys()].filter((id) => !withText.has(id)).length;

  const runs: RunScores[] = [];
  for (const run of options.runs ?? STANDARD_RUNS) {
    const start = performance.now();
    const ndcg: number[] = [];
    const recall10: number[] = [];
    const recall100: number[] = [];
    const perQuery: QueryScores[] = [];
    let shortRankings = 0;
    for (const [i, query] of evaluated.entries()) {
      const judgements = dataset.qrels.get(query.id) ?? new Map<string, number>();
      const queryStart = performance.now();
      const retrieved = await retrieveContext(
        auth.tenantId,
        query.text,
        { topK: run.topK, candidates: run.candidates, mode: run.mode },
        deps,
      );
      const chunks = run.rerank
        ? await reranked(query.text, retrieved.chunks, run.rerank, deps)
        : retrieved.chunks;
      const ms = performance.now() - queryStart;
      const ranking = documentRanking(chunks, (c) => documentsBySource.get(c.sourceId));
      if (ranking.length < 100) shortRankings++;
      ndcg.push(ndcgAtK(ranking, judgements, 10));
      recall10.push(recallAtK(ranking, judgements, 10));
      recall100.push(recallAtK(ranking, judgements, 100));
      perQuery.push({ id: query.id, ndcgAt10: ndcg.at(-1)!, recallAt100: recall100.at(-1)!, ms });
      options.onQueryProgress?.(run, i + 1, evaluated.length);
    }
    runs.push({
      run,
      ndcgAt10: mean(ndcg),
      recallAt10: mean(recall10),
      recallAt100: mean(recall100),
      shortRankings,
      seconds: (performance.now() - start) / 1000,
      meanQueryMs: mean(perQuery.map((q) => q.ms)),
      perQuery,
    });
  }

  let crossValidation: CrossValidationReport | undefined;
  let lexicalScoring: LexicalScoringReport | undefined;
  if (options.crossValidation) {
    const depth = Math.max(...(options.runs ?? STANDARD_RUNS).map((r) => r.topK));
    const cv = options.crossValidation;
    const scorings = cv.lexicalScorings ?? [];
    const recorded: RecordedQuery[] = [];
    /** Per query, the lexical list under each of `scorings` (current versions only). */
    const variants: ScoredId[][][] = [];
    const variantMs = scorings.map(() => 0);
    for (const query of evaluated) {
      const found = await retrieveCandidates(auth.tenantId, query.text, { candidates: depth }, deps);
      const lists: ScoredId[][] = [];
      for (const [v, lexical] of scorings.entries()) {
        const start = performance.now();
        const hits = await retrieveCandidates(
          auth.tenantId,
          query.text,
          { candidates: depth, mode: 'lexical', lexical },
          deps,
        );
        variantMs[v] = (variantMs[v] ?? 0) + performance.now() - start;
        lists.push(hits.lexical);
      }
      const ids = [...new Set([...found.dense, ...found.lexical, ...lists.flat()].map((c) => c.id))];
      // Only chunks of current versions count, as retrieveContext reads them.
      const rows = await deps.db.withTenant(auth.tenantId, (tx) => findChunks(tx, auth.tenantId, ids));
      const sourceOf = new Map(rows.map((r) => [r.id, r.sourceId]));
      const current = (c: { id: string }) => sourceOf.has(c.id);
      recorded.push({
        id: query.id,
        judgements: dataset.qrels.get(query.id) ?? new Map(),
        dense: found.dense.filter(current),
        lexical: found.lexical.filter(current),
        documentsOf: (chunkId) => documentsBySource.get(sourceOf.get(chunkId) ?? ''),
      });
      variants.push(lists.map((l) => l.filter(current)));
    }
    crossValidation = crossValidateFusion(recorded, fusionCandidates(), {
      folds: cv.folds,
      seed: cv.seed,
      depth,
    });
    if (scorings.length > 0)
      lexicalScoring = {
        meanQueryMs: scorings.map((s, v) => ({
          label: describeLexicalScoring(s),
          ms: (variantMs[v] ?? 0) / Math.max(1, evaluated.length),
        })),
        ...crossValidateLexicalScoring(recorded, variants, scorings, {
          folds: cv.folds,
          seed: cv.seed,
          depth,
        }),
      };
  }

  return {
    dataset: {
      name: dataset.name,
      split: dataset.split,
      documents: dataset.corpus.length,
      queries: dataset.queries.length,
    },
    embedding: deps.embedder.space,
    ingest: { ...ingested, seconds: ingestSeconds },
    queries: {
      evaluated: evaluated.length,
      skippedNoRelevant: dataset.queries.length - evaluated.length,
      judgedWithoutText,
    },
    runs,
    ...(crossValidation ? { crossValidation } : {}),
    ...(lexicalScoring ? { lexicalScoring } : {}),
  };
}

/**
 * The rerank model's order, asked directly: unlike answering, an evaluation never falls back to the fused
 * order on a failure, which would score the wrong thing.
 */
async function reranked(
  query: string,
  chunks: RetrievedChunk[],
  settings: RerankSettings,
  deps: EvaluationDeps,
): Promise<RetrievedChunk[]> {
  if (!deps.rerankerFor) throw new Error('Reranking is not available here');
  const { ranking } = await deps.rerankerFor(settings).rerank(
    query,
    chunks.map((c) => c.content),
    { topN: settings.topN },
  );
  return ranking.flatMap((r) => (chunks[r.index] ? [{ ...chunks[r.index]!, score: r.score }] : []));
}

/**
 * The lexical scorings replayed on recorded lists: alone (against plain BM25), and each paired with every
 * fusion method over the recorded dense list, chosen on the same folds as the fusion over plain BM25 alone.
 */
function crossValidateLexicalScoring(
  recorded: readonly RecordedQuery[],
  variants: readonly (readonly ScoredId[][])[],
  scorings: readonly LexicalScoring[],
  options: { folds: number; seed?: number | undefined; depth: number },
): Omit<LexicalScoringReport, 'meanQueryMs'> {
  const ids = recorded.map((q) => q.id);
  const cv = { folds: options.folds, ...(options.seed === undefined ? {} : { seed: options.seed }) };
  const lexicalOf = (v: number) => (q: number) => variants[q]?.[v] ?? [];
  const lexical: ScoredCandidate[] = scorings.map((scoring, v) => ({
    label: describeLexicalScoring(scoring),
    ...scoreRankings(recorded, lexicalOf(v), options.depth),
  }));
  const baseline = lexical[0]!;
  const methods = fusionCandidates();
  const fused: ScoredCandidate[][] = scorings.map((scoring, v) =>
    methods.map((m) => ({
      label: `${describeLexicalScoring(scoring)}; ${describeFusion(m)}`,
      ...scoreRankings(recorded, (q) => fuse(recorded[q]!.dense, lexicalOf(v)(q), m), options.depth),
      recallFloor: lexical[v]!.recall100,
    })),
  );
  const fusionOnly = crossValidateSelection(ids, fused[0]!, baseline, cv);
  const against = (joint: SelectionReport): JointComparison => {
    const perFold = joint.perFold.map((f, i) => ({
      fold: f.fold,
      gain: f.testNdcg - (fusionOnly.perFold[i]?.testNdcg ?? 0),
    }));
    return {
      perFold,
      meanGain: mean(perFold.map((f) => f.gain)),
      comparison: comparePaired(
        new Map(Object.entries(fusionOnly.heldOut.perQuery)),
        new Map(Object.entries(joint.heldOut.perQuery)),
      ),
    };
  };
  const select = (keep: (s: LexicalScoring) => boolean) => {
    const kept = scorings.flatMap((s, v) => (keep(s) ? [v] : []));
    const joint = crossValidateSelection(
      ids,
      kept.flatMap((v) => fused[v]!),
      baseline,
      cv,
    );
    return {
      lexical: crossValidateSelection(
        ids,
        kept.map((v) => lexical[v]!),
        baseline,
        cv,
      ),
      joint,
      jointOverFusionOnly: against(joint),
    };
  };
  const all = select(() => true);
  return {
    lexical: all.lexical,
    fusionOnly,
    joint: all.joint,
    jointOverFusionOnly: all.jointOverFusionOnly,
    ablations: [
      { name: 'title field only', ...select((s) => s.feedback === null) },
      { name: 'RM3 only', ...select((s) => s.titleWeight === 0) },
    ],
  };
}
