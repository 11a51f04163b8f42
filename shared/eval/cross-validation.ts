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
 * lexical run's there (a fusion must not trade recall for the top ranks); the earlier candidate wins a tie.
 */
function choose(all: readonly Scores[], lexical: Scores, train: readonly number[]): number {
  const floor = meanOf(lexical.recall100, train) - 1e-12;
  let best = -1;
  let bestNdcg = Number.NEGATIVE_INFINITY;
  for (const [c, s] of all.entries()) {
    if (meanOf(s.recall100, train) < floor) continue;
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
