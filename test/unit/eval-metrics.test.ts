import { describe, expect, it } from 'vitest';
import { dcgAtK, documentRanking, idealDcgAtK, mean, ndcgAtK, recallAtK } from '#shared/eval/metrics.ts';

const judged = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('nDCG@k (linear gains, log2 discount, as trec_eval)', () => {
  const grades = judged({ a: 3, b: 2, c: 1 });

  it('when relevant documents are interleaved with unjudged ones then each gain is discounted by its rank', () => {
    // DCG = 2/log2(2) + 0 + 3/log2(4) + 1/log2(5) = 2 + 1.5 + 0.430677
    expect(dcgAtK(['b', 'x', 'a', 'c'], grades, 10)).toBeCloseTo(3.930677, 5);
    // ideal: a, b, c = 3 + 2/log2(3) + 1/log2(4)
    expect(idealDcgAtK(grades, 10)).toBeCloseTo(4.76186, 5);
    expect(ndcgAtK(['b', 'x', 'a', 'c'], grades, 10)).toBeCloseTo(0.8254499, 6);
  });

  it('when k cuts the ranking then both the run and the ideal are cut at k', () => {
    // (1 + 3/log2(3)) / (3 + 2/log2(3))
    expect(ndcgAtK(['c', 'a', 'b'], grades, 2)).toBeCloseTo(0.6787622, 6);
  });

  it('when grades differ then gains are the grades themselves, not 2^grade - 1', () => {
    // linear: (1 + 4/log2(3)) / (4 + 1/log2(3)) = 0.7609; exponential gains would give 0.6694
    expect(ndcgAtK(['b', 'a'], judged({ a: 4, b: 1 }), 10)).toBeCloseTo(0.7609096, 6);
  });

  it('when the ranking is ideal then nDCG is 1, and when nothing relevant is retrieved it is 0', () => {
    expect(ndcgAtK(['a', 'b', 'c', 'x'], grades, 10)).toBeCloseTo(1, 12);
    expect(ndcgAtK(['x', 'y'], grades, 10)).toBe(0);
    expect(ndcgAtK([], grades, 10)).toBe(0);
  });

  it('when the ideal holds more relevant documents than k then the ideal uses the k best grades', () => {
    // ideal@1 = 3 (a); run@1 = b (2) → 2/3
    expect(ndcgAtK(['b', 'a'], grades, 1)).toBeCloseTo(2 / 3, 12);
  });

  it('when a document is judged non-relevant (grade 0) then it adds no gain and is not in the ideal', () => {
    const withZero = judged({ a: 2, z: 0 });
    expect(idealDcgAtK(withZero, 10)).toBe(2);
    expect(ndcgAtK(['z', 'a'], withZero, 10)).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('when a query has no relevant judgement then nDCG is 0 (the caller skips such queries)', () => {
    expect(ndcgAtK(['a'], judged({ a: 0 }), 10)).toBe(0);
  });
});

describe('Recall@k', () => {
  const grades = judged({ a: 1, b: 2, c: 0, d: 3 });

  it('when some relevant documents are in the top k then recall is their share of all relevant ones', () => {
    expect(recallAtK(['c', 'a', 'x', 'd'], grades, 2)).toBeCloseTo(1 / 3, 12);
    expect(recallAtK(['c', 'a', 'x', 'd'], grades, 4)).toBeCloseTo(2 / 3, 12);
    expect(recallAtK(['c', 'a', 'x', 'd'], grades, 100)).toBeCloseTo(2 / 3, 12);
  });

  it('when every relevant document is retrieved then recall is 1, and 0 when there is none to find', () => {
    expect(recallAtK(['d', 'b', 'a'], grades, 10)).toBe(1);
    expect(recallAtK(['a'], judged({ a: 0 }), 10)).toBe(0);
  });
});

describe('documentRanking', () => {
  it('when several chunks come from one document then the document keeps the rank of its best chunk', () => {
    const documents = new Map([
      ['s1', ['d1']],
      ['s2', ['d2']],
      ['s3', ['d3', 'd4']], // two identical documents sharing one source
    ]);
    const hits = ['s2', 's1', 's2', 's3', 'unknown', 's1'].map((sourceId) => ({ sourceId }));
    expect(documentRanking(hits, (h) => documents.get(h.sourceId))).toEqual(['d2', 'd1', 'd3', 'd4']);
  });
});

describe('mean', () => {
  it('when given values then it averages them, and an empty list averages to 0', () => {
    expect(mean([0.5, 1, 0])).toBeCloseTo(0.5, 12);
    expect(mean([])).toBe(0);
  });
});
