/**
 * Ranked-retrieval metrics as trec_eval (and BEIR, through pytrec_eval) compute them: graded
 * judgements, LINEAR gains (gain = relevance grade, not 2^grade − 1), log2 discount, the ideal ranking
 * built from every judged relevant document of the query. A grade ≤ 0 means "judged not relevant".
 */

/** One query's judgements: document id → relevance grade. */
export type Judgements = ReadonlyMap<string, number>;

const discount = (rank: number) => Math.log2(rank + 1);

/** DCG@k = Σ_{i=1..k} grade(doc_i) / log2(i + 1), unjudged and non-relevant documents counting 0. */
export function dcgAtK(ranking: readonly string[], judgements: Judgements, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranking.length); i++) {
    const grade = judgements.get(ranking[i] ?? '') ?? 0;
    if (grade > 0) dcg += grade / discount(i + 1);
  }
  return dcg;
}

/** DCG@k of the best possible ranking: every relevant document, highest grade first. */
export function idealDcgAtK(judgements: Judgements, k: number): number {
  const grades = [...judgements.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let dcg = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) dcg += (grades[i] ?? 0) / discount(i + 1);
  return dcg;
}

/** nDCG@k in [0, 1]; 0 for a query with no relevant judgement (callers skip those queries). */
export function ndcgAtK(ranking: readonly string[], judgements: Judgements, k: number): number {
  const ideal = idealDcgAtK(judgements, k);
  return ideal === 0 ? 0 : dcgAtK(ranking, judgements, k) / ideal;
}

/** Relevant documents in the top k / all relevant documents of the query (trec_eval's recall_k). */
export function recallAtK(ranking: readonly string[], judgements: Judgements, k: number): number {
  const relevant = countRelevant(judgements);
  if (relevant === 0) return 0;
  let found = 0;
  for (const id of ranking.slice(0, k)) if ((judgements.get(id) ?? 0) > 0) found++;
  return found / relevant;
}

export function countRelevant(judgements: Judgements): number {
  let n = 0;
  for (const grade of judgements.values()) if (grade > 0) n++;
  return n;
}

/**
 * Chunk hits → a document ranking: each document keeps the rank of its best chunk. `documentsOf`
 * maps a hit to its documents (usually one; two identical documents share one source).
 */
export function documentRanking<T>(
  hits: readonly T[],
  documentsOf: (hit: T) => readonly string[] | undefined,
): string[] {
  const seen = new Set<string>();
  const ranking: string[] = [];
  for (const hit of hits) {
    for (const id of documentsOf(hit) ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      ranking.push(id);
    }
  }
  return ranking;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}
