import { describe, expect, it } from 'vitest';
import {
  crossValidateFusion,
  crossValidateSelection,
  type RecordedQuery,
} from '#shared/eval/cross-validation.ts';
import { comparePaired, signTest } from '#shared/eval/paired-comparison.ts';
import {
  type FusionMethod,
  fuse,
  fusionCandidates,
  listAgreement,
  reciprocalRankFusion,
} from '#shared/usecases/answering/fusion.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';

const list = (...ids: string[]) => ids.map((id, i) => ({ id, score: 10 - i }));
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('fusion methods', () => {
  it('when RRF fuses two lists, then each id scores Σ weight / (60 + rank)', () => {
    const scores = reciprocalRankFusion(
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
      [0.5, 1],
    );
    expect(scores.get('a')).toBeCloseTo(0.5 / 61);
    expect(scores.get('b')).toBeCloseTo(0.5 / 62 + 1 / 61);
    expect(scores.get('c')).toBeCloseTo(1 / 62);
  });

  it('when one side found nothing, then every method keeps the other side in its own order', () => {
    for (const m of fusionCandidates()) {
      expect(ids(fuse([], list('x', 'y', 'z'), m))).toEqual(['x', 'y', 'z']);
      expect(ids(fuse(list('x', 'y', 'z'), [], m))).toEqual(['x', 'y', 'z']);
    }
  });

  it('when the dense weight is 0 in a convex combination, then the lexical order stands and dense-only ids follow', () => {
    const m: FusionMethod = { kind: 'convex', normalization: 'minmax', denseWeight: 0 };
    expect(ids(fuse(list('q', 'c', 'a'), list('a', 'b', 'c'), m)).slice(0, 3)).toEqual(['a', 'b', 'c']);
  });

  it('when min-max scores are combined, then a candidate strong on both sides beats one strong on one side', () => {
    const dense = [
      { id: 'both', score: 0.9 },
      { id: 'dense-only', score: 0.95 },
      { id: 'x', score: 0.1 },
    ];
    const lexical = [
      { id: 'lex-only', score: 12 },
      { id: 'both', score: 11 },
      { id: 'y', score: 1 },
    ];
    const fused = fuse(dense, lexical, { kind: 'convex', normalization: 'minmax', denseWeight: 0.5 });
    expect(fused[0]?.id).toBe('both');
  });

  it('when the two lists share nothing in their top 10, then agreement weighting keeps the lexical ranking', () => {
    const dense = list('d1', 'd2', 'd3');
    // Min-max puts a list's last candidate at 0, level with the ones it lacks; the top stays lexical.
    const lexical = list('l1', 'l2', 'l3', 'l4');
    expect(listAgreement(dense, lexical)).toBe(0);
    expect(ids(fuse(dense, lexical, { kind: 'agreement', denseWeight: 1 })).slice(0, 3)).toEqual([
      'l1',
      'l2',
      'l3',
    ]);
    expect(listAgreement(list('a', 'b'), list('b', 'a'))).toBe(1);
  });
});

describe('paired comparison', () => {
  it('when b wins 10 queries and loses none, then the two-sided sign test gives 2 × 0.5^10', () => {
    expect(signTest(10, 0)).toBeCloseTo(2 / 1024, 10);
    expect(signTest(5, 5)).toBe(1);
    expect(signTest(0, 0)).toBe(1);
    // Large n must not underflow: 600 vs 400 is far from a fair coin.
    expect(signTest(600, 400)).toBeLessThan(1e-9);
    expect(signTest(600, 400)).toBeGreaterThan(0);
  });

  it('when two runs are compared, then queries are paired by id and float noise counts as a tie', () => {
    const a = new Map([
      ['q1', 0.5],
      ['q2', 0.5],
      ['q3', 0.1 + 0.2],
      ['q4', 0.9],
    ]);
    const b = new Map([
      ['q1', 0.6],
      ['q2', 0.4],
      ['q3', 0.3],
      ['q5', 1],
    ]);
    const c = comparePaired(a, b);
    expect(c).toMatchObject({ queries: 3, wins: 1, losses: 1, ties: 1 });
    expect(c.meanDifference).toBeCloseTo(0);
  });
});

describe('cross-validation of the fusion', () => {
  /** Queries whose lexical list ranks the relevant document first and whose dense list is noise. */
  function queries(n: number, denseHelps: boolean): RecordedQuery[] {
    const random = seededRandom(3);
    return Array.from({ length: n }, (_, q) => {
      const docs = Array.from({ length: 30 }, (_, d) => `q${q}d${d}`);
      const lexicalOrder = denseHelps ? [docs[1]!, docs[0]!, ...docs.slice(2)] : docs;
      const noisy = [...docs].sort(() => random() - 0.5);
      const denseOrder = denseHelps ? [docs[0]!, docs[1]!, ...docs.slice(2)] : noisy;
      return {
        id: `q${q}`,
        judgements: new Map([[docs[0]!, 2]]),
        lexical: lexicalOrder.map((id, i) => ({ id, score: 30 - i })),
        dense: denseOrder.map((id, i) => ({ id, score: 1 - i / 30 })),
        documentsOf: (chunkId) => [chunkId],
      };
    });
  }

  it('when the dense side is noise, then the held-out gain over lexical is not negative', () => {
    const cv = crossValidateFusion(queries(40, false), fusionCandidates(), { folds: 5, depth: 100 });
    expect(cv.meanGain).toBeGreaterThanOrEqual(0);
    expect(cv.heldOut.comparison.losses).toBe(0);
    expect(cv.perFold).toHaveLength(5);
    expect(cv.perFold.reduce((n, f) => n + f.testQueries, 0)).toBe(40);
  });

  it('when the dense side fixes the lexical top rank, then a fusion that uses it is chosen and gains on held-out queries', () => {
    const cv = crossValidateFusion(queries(40, true), fusionCandidates(), { folds: 5, depth: 100 });
    expect(cv.meanGain).toBeGreaterThan(0.1);
    expect(cv.chosen.label).not.toBe('lexical');
  });
});

describe('cross-validated selection among scored candidates', () => {
  const n = 20;
  const qids = Array.from({ length: n }, (_, i) => `q${i}`);
  const flat = (x: number) => qids.map(() => x);

  it('when a candidate is better on every query, then every fold chooses it and its held-out gain is the difference', () => {
    const baseline = { label: 'BM25', ndcg: flat(0.3), recall100: flat(0.7) };
    const better = { label: 'BM25F', ndcg: flat(0.4), recall100: flat(0.7) };
    const cv = crossValidateSelection(qids, [baseline, better], baseline, { folds: 5 });
    expect(cv.perFold.map((f) => f.chosen)).toEqual(Array(5).fill('BM25F'));
    expect(cv.meanGain).toBeCloseTo(0.1);
    expect(cv.heldOut.comparison).toMatchObject({ wins: n, losses: 0 });
    expect(Object.keys(cv.heldOut.perQuery)).toEqual(qids);
    expect(cv.chosen.label).toBe('BM25F');
  });

  it('when a candidate wins on nDCG but loses recall, or wins only on the queries held out, then the baseline stays', () => {
    const baseline = { label: 'BM25', ndcg: flat(0.3), recall100: flat(0.7) };
    const lossy = { label: 'lossy', ndcg: flat(0.5), recall100: flat(0.6) };
    expect(crossValidateSelection(qids, [lossy], baseline, { folds: 5 }).meanGain).toBe(0);
    // Better on one query only: chosen on the four folds that hold it, it loses on the one that does not.
    const lucky = { label: 'lucky', ndcg: qids.map((_, i) => (i === 0 ? 1 : 0.29)), recall100: flat(0.7) };
    const cv = crossValidateSelection(qids, [baseline, lucky], baseline, { folds: 5 });
    expect(cv.meanGain).toBeLessThan(0);
    expect(cv.perFold.filter((f) => f.chosen === 'lucky')).toHaveLength(4);
  });
});
