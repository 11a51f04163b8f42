import { describeFusion, type FusionMethod, fuse, type ScoredId } from '../usecases/answering/fusion.ts';
import { documentRanking, type Judgements, mean, ndcgAtK, recallAtK } from './metrics.ts';
import { comparePaired, type PairedComparison } from './paired-comparison.ts';

/** One judged query's recorded candidate lists, replayed under every fusion method. */
export interface RecordedQuery {
  readonly id: string;
  readonly judgements: Judgements;
  readonly dense: readonly ScoredId[];
  readonly lexical: readonly ScoredId[];
  /** chunk id → the corpus documents it belongs to. */
  readonly documentsOf: (chunkId: string) => readonly string[] | undefined;
}

interface Scores {
  readonly ndcg: number[];
  readonly recall100: number[];
  /** Per-query Recall@100 this candidate must not fall below on average (else the baseline's). */
  readonly recallFloor?: readonly number[];
}

export interface CandidateScores {
  readonly method: FusionMethod;
  readonly label: string;
  readonly ndcgAt10: number;
  readonly recallAt100: number;
}

export interface FoldResult {
  readonly fold: number;
  readonly chosen: string;
  readonly testQueries: number;
  readonly testNdcg: number;
  readonly lexicalNdcg: number;
  readonly denseNdcg: number;
  /** testNdcg − lexicalNdcg on the held-out queries. */
  readonly gain: number;
}

export interface CrossValidationReport {
  readonly folds: number;
  readonly seed: number;
  readonly candidates: CandidateScores[];
  readonly lexical: { ndcgAt10: number; recallAt100: number };
  readonly dense: { ndcgAt10: number; recallAt100: number };
  readonly perFold: FoldResult[];
  /** Mean over folds of the held-out gain over lexical. */
  readonly meanGain: number;
  /** Each query scored by the method chosen on the folds without it, against lexical. */
  readonly heldOut: { ndcgAt10: number; recallAt100: number; comparison: PairedComparison };
  /** Other shuffles of the same folds: how much the mean gain depends on the split. */
  readonly repeats: { seeds: number; meanGain: number; minGain: number; maxGain: number };
  /** The method chosen on every query: what the product uses. */
  readonly chosen: CandidateScores;
}

function score(
  queries: readonly RecordedQuery[],
  rank: (q: RecordedQuery) => readonly ScoredId[],
  depth: number,
): Scores {
  const ndcg: number[] = [];
  const recall100: number[] = [];
  for (const q of queries) {
    const ranking = documentRanking(rank(q).slice(0, depth), (c) => q.documentsOf(c.id));
    ndcg.push(ndcgAtK(ranking, q.judgements, 10));
    recall100.push(recallAtK(ranking, q.judgements, 100));
  }
  return { ndcg, recall100 };
}

const meanOf = (values: readonly number[], indexes: readonly number[]) =>
  mean(indexes.map((i) => values[i] ?? 0));

/** mulberry32, so a fold assignment is the same on every machine. */
function shuffled(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The candidate with the best mean nDCG@10 on `train` among those whose Recall@100 is at least the
 * lexical run's there (a fusion must not trade recall for the top ranks; a candidate with its own
 * `recallFloor`, a fusion over another lexical list, is held to that list's); the earlier candidate wins a tie.
 */
function choose(all: readonly Scores[], lexical: Scores, train: readonly number[]): number {
  const floor = meanOf(lexical.recall100, train) - 1e-12;
  let best = -1;
  let bestNdcg = Number.NEGATIVE_INFINITY;
  for (const [c, s] of all.entries()) {
    const own = s.recallFloor ? meanOf(s.recallFloor, train) - 1e-12 : floor;
    if (meanOf(s.recall100, train) < own) continue;
    const n = meanOf(s.ndcg, train);
    if (n > bestNdcg + 1e-12) {
      best = c;
      bestNdcg = n;
    }
  }
  return best;
}

function runFolds(all: readonly Scores[], lexical: Scores, dense: Scores, folds: number, seed: number) {
  const n = lexical.ndcg.length;
  const order = shuffled(n, seed);
  const heldOutNdcg = new Array<number>(n).fill(0);
  const heldOutRecall = new Array<number>(n).fill(0);
  const perFold: (Omit<FoldResult, 'chosen'> & { chosen: number })[] = [];
  for (let f = 0; f < folds; f++) {
    const test = order.filter((_, i) => i % folds === f);
    const train = order.filter((_, i) => i % folds !== f);
    const c = choose(all, lexical, train);
    const s = c < 0 ? lexical : all[c]!;
    for (const i of test) {
      heldOutNdcg[i] = s.ndcg[i] ?? 0;
      heldOutRecall[i] = s.recall100[i] ?? 0;
    }
    const testNdcg = meanOf(s.ndcg, test);
    const lexicalNdcg = meanOf(lexical.ndcg, test);
    perFold.push({
      fold: f + 1,
      chosen: c,
      testQueries: test.length,
      testNdcg,
      lexicalNdcg,
      denseNdcg: meanOf(dense.ndcg, test),
      gain: testNdcg - lexicalNdcg,
    });
  }
  return { perFold, heldOutNdcg, heldOutRecall, meanGain: mean(perFold.map((p) => p.gain)) };
}

/**
 * k-fold cross-validation of the fusion method and its weight: on each fold, every candidate is scored on
 * the other folds' queries, the best is chosen there and measured on the held-out fold. The gain over
 * the lexical ranking on held-out queries is the figure that says whether the fusion generalises.
 */
export function crossValidateFusion(
  queries: readonly RecordedQuery[],
  candidates: readonly FusionMethod[],
  options: { folds: number; seed?: number; repeats?: number; depth: number },
): CrossValidationReport {
  const seed = options.seed ?? 1;
  const all = candidates.map((m) => score(queries, (q) => fuse(q.dense, q.lexical, m), options.depth));
  const lexical = score(queries, (q) => q.lexical, options.depth);
  const dense = score(queries, (q) => q.dense, options.depth);
  const everything = [...queries.keys()];
  const summary = (m: FusionMethod, s: Scores): CandidateScores => ({
    method: m,
    label: describeFusion(m),
    ndcgAt10: mean(s.ndcg),
    recallAt100: mean(s.recall100),
  });
  const main = runFolds(all, lexical, dense, options.folds, seed);
  const repeatGains: number[] = [];
  for (let r = 0; r < (options.repeats ?? 10); r++)
    repeatGains.push(runFolds(all, lexical, dense, options.folds, seed + 1000 + r).meanGain);
  const chosenIndex = choose(all, lexical, everything);
  const byId = (values: readonly number[]) => new Map(queries.map((q, i) => [q.id, values[i] ?? 0]));
  return {
    folds: options.folds,
    seed,
    candidates: candidates.map((m, c) => summary(m, all[c]!)),
    lexical: { ndcgAt10: mean(lexical.ndcg), recallAt100: mean(lexical.recall100) },
    dense: { ndcgAt10: mean(dense.ndcg), recallAt100: mean(dense.recall100) },
    perFold: main.perFold.map((p) => ({
      ...p,
      chosen: p.chosen < 0 ? 'lexical' : describeFusion(candidates[p.chosen]!),
    })),
    meanGain: main.meanGain,
    heldOut: {
      ndcgAt10: mean(main.heldOutNdcg),
      recallAt100: mean(main.heldOutRecall),
      comparison: comparePaired(byId(lexical.ndcg), byId(main.heldOutNdcg)),
    },
    repeats: {
      seeds: repeatGains.length,
      meanGain: mean(repeatGains),
      minGain: Math.min(...repeatGains),
      maxGain: Math.max(...repeatGains),
    },
    chosen:
      chosenIndex < 0
        ? {
            method: { kind: 'rrf', denseWeight: 0 },
            label: 'lexical',
            ...{ ndcgAt10: mean(lexical.ndcg), recallAt100: mean(lexical.recall100) },
          }
        : summary(candidates[chosenIndex]!, all[chosenIndex]!),
  };
}

/** One candidate's per-query figures (in the queries' order), already computed. */
export interface ScoredCandidate {
  readonly label: string;
  readonly ndcg: readonly number[];
  readonly recall100: readonly number[];
  /** The Recall@100 it is held to on the training folds, per query; by default the baseline's. */
  readonly recallFloor?: readonly number[];
}

export interface SelectionFold {
  readonly fold: number;
  readonly chosen: string;
  readonly testQueries: number;
  readonly testNdcg: number;
  readonly baselineNdcg: number;
  /** testNdcg − baselineNdcg on the held-out queries. */
  readonly gain: number;
}

export interface SelectionReport {
  readonly folds: number;
  readonly seed: number;
  readonly baseline: { label: string; ndcgAt10: number; recallAt100: number };
  readonly candidates: { label: string; ndcgAt10: number; recallAt100: number }[];
  readonly perFold: SelectionFold[];
  /** Mean over folds of the held-out gain over the baseline. */
  readonly meanGain: number;
  /** Each query scored by the candidate chosen on the folds without it, against the baseline. */
  readonly heldOut: {
    ndcgAt10: number;
    recallAt100: number;
    comparison: PairedComparison;
    /** query id → held-out nDCG@10, so two selections over the same folds can be compared query by query. */
    perQuery: Record<string, number>;
  };
  readonly repeats: { seeds: number; meanGain: number; minGain: number; maxGain: number };
  /** The candidate chosen on every query. */
  readonly chosen: { label: string; ndcgAt10: number; recallAt100: number };
}

/**
 * k-fold cross-validation of a choice among candidates whose per-query figures are already known (lexical
 * scorings, or lexical scorings × fusion methods): on each fold the candidate with the best nDCG@10 whose
 * Recall@100 is at least the baseline's (or its own `recallFloor`) is chosen on the other folds and
 * measured on the held-out one.
 * The folds are the same as `crossValidateFusion`'s for the same queries and seed.
 */
export function crossValidateSelection(
  queryIds: readonly string[],
  candidates: readonly ScoredCandidate[],
  baseline: ScoredCandidate,
  options: { folds: number; seed?: number; repeats?: number },
): SelectionReport {
  const seed = options.seed ?? 1;
  const all: Scores[] = candidates.map((c) => ({
    ndcg: [...c.ndcg],
    recall100: [...c.recall100],
    ...(c.recallFloor ? { recallFloor: c.recallFloor } : {}),
  }));
  const base: Scores = { ndcg: [...baseline.ndcg], recall100: [...baseline.recall100] };
  const main = runFolds(all, base, base, options.folds, seed);
  const repeatGains: number[] = [];
  for (let r = 0; r < (options.repeats ?? 10); r++)
    repeatGains.push(runFolds(all, base, base, options.folds, seed + 1000 + r).meanGain);
  const summary = (c: ScoredCandidate) => ({
    label: c.label,
    ndcgAt10: mean(c.ndcg),
    recallAt100: mean(c.recall100),
  });
  const byId = (values: readonly number[]) => new Map(queryIds.map((id, i) => [id, values[i] ?? 0]));
  const chosenIndex = choose(all, base, [...queryIds.keys()]);
  return {
    folds: options.folds,
    seed,
    baseline: summary(baseline),
    candidates: candidates.map(summary),
    perFold: main.perFold.map((p) => ({
      fold: p.fold,
      chosen: p.chosen < 0 ? baseline.label : candidates[p.chosen]!.label,
      testQueries: p.testQueries,
      testNdcg: p.testNdcg,
      baselineNdcg: p.lexicalNdcg,
      gain: p.gain,
    })),
    meanGain: main.meanGain,
    heldOut: {
      ndcgAt10: mean(main.heldOutNdcg),
      recallAt100: mean(main.heldOutRecall),
      comparison: comparePaired(byId(base.ndcg), byId(main.heldOutNdcg)),
      perQuery: Object.fromEntries(byId(main.heldOutNdcg)),
    },
    repeats: {
      seeds: repeatGains.length,
      meanGain: mean(repeatGains),
      minGain: Math.min(...repeatGains),
      maxGain: Math.max(...repeatGains),
    },
    chosen: chosenIndex < 0 ? summary(baseline) : summary(candidates[chosenIndex]!),
  };
}

/** Per-query nDCG@10 and Recall@100 of a ranking of chunk ids. */
export function scoreRankings(
  queries: readonly Pick<RecordedQuery, 'judgements' | 'documentsOf'>[],
  rank: (q: number) => readonly ScoredId[],
  depth: number,
): { ndcg: number[]; recall100: number[] } {
  const ndcg: number[] = [];
  const recall100: number[] = [];
  for (const [i, q] of queries.entries()) {
    const ranking = documentRanking(rank(i).slice(0, depth), (c) => q.documentsOf(c.id));
    ndcg.push(ndcgAtK(ranking, q.judgements, 10));
    recall100.push(recallAtK(ranking, q.judgements, 100));
  }
  return { ndcg, recall100 };
}
