/**
 * How the dense and lexical candidate lists become one ranking. Every method is a pure function of the
 * two scored lists, so `minirag eval --cv` can replay them on recorded candidates and choose one by
 * cross-validation instead of by looking at the figure it reports.
 */

/** One candidate as a retriever returned it: higher score is better. */
export interface ScoredId {
  readonly id: string;
  readonly score: number;
}

export type FusionMethod =
  /** Reciprocal rank fusion (Cormack et al., 2009): Σ weight / (k + rank); scores are ignored. */
  | { readonly kind: 'rrf'; readonly denseWeight: number; readonly k?: number }
  /**
   * Convex combination of normalised scores: (1 − α)·lexical + α·dense, each list min-max scaled to
   * [0, 1] or z-scored; a candidate missing from a list gets that list's floor (0, or its lowest z).
   */
  | { readonly kind: 'convex'; readonly normalization: 'minmax' | 'zscore'; readonly denseWeight: number }
  /**
   * Convex min-max combination whose dense weight follows the two lists' agreement on this query:
   * α = denseWeight × |top-10 dense ∩ top-10 lexical| / 10. When the dense side finds what the lexical
   * side finds it gets a say in the order; when it disagrees entirely the lexical ranking stands.
   */
  | { readonly kind: 'agreement'; readonly denseWeight: number };

export const RRF_K = 60;
const AGREEMENT_DEPTH = 10;

export function describeFusion(method: FusionMethod): string {
  switch (method.kind) {
    case 'rrf':
      return `RRF k=${method.k ?? RRF_K}, dense × ${method.denseWeight}`;
    case 'convex':
      return `convex ${method.normalization}, α=${method.denseWeight}`;
    case 'agreement':
      return `agreement-weighted min-max, α≤${method.denseWeight}`;
  }
}

/** score(d) = Σ over the rankings that contain d of weight(ranking) / (k + rank(d)). */
export function reciprocalRankFusion(
  rankings: readonly (readonly string[])[],
  weights: readonly number[] = rankings.map(() => 1),
  k = RRF_K,
): Map<string, number> {
  const scores = new Map<string, number>();
  for (const [r, ranking] of rankings.entries()) {
    const weight = weights[r] ?? 1;
    for (const [index, id] of ranking.entries())
      scores.set(id, (scores.get(id) ?? 0) + weight / (k + index + 1));
  }
  return scores;
}

function normalized(
  list: readonly ScoredId[],
  how: 'minmax' | 'zscore',
): { scores: Map<string, number>; floor: number } {
  const scores = new Map<string, number>();
  if (list.length === 0) return { scores, floor: 0 };
  const values = list.map((c) => c.score);
  if (how === 'minmax') {
    const min = Math.min(...values);
    const span = Math.max(...values) - min;
    for (const c of list) scores.set(c.id, span > 0 ? (c.score - min) / span : 1);
    return { scores, floor: 0 };
  }
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  let floor = 0;
  for (const c of list) {
    const z = sd > 0 ? (c.score - mean) / sd : 0;
    scores.set(c.id, z);
    floor = Math.min(floor, z);
  }
  return { scores, floor };
}

function convex(
  dense: readonly ScoredId[],
  lexical: readonly ScoredId[],
  how: 'minmax' | 'zscore',
  alpha: number,
): Map<string, number> {
  const d = normalized(dense, how);
  const l = normalized(lexical, how);
  const fused = new Map<string, number>();
  for (const id of new Set([...lexical.map((c) => c.id), ...dense.map((c) => c.id)])) {
    fused.set(id, (1 - alpha) * (l.scores.get(id) ?? l.floor) + alpha * (d.scores.get(id) ?? d.floor));
  }
  return fused;
}

/** Share of the top-10 lexical candidates that the dense top 10 also holds. */
export function listAgreement(dense: readonly ScoredId[], lexical: readonly ScoredId[]): number {
  const top = new Set(lexical.slice(0, AGREEMENT_DEPTH).map((c) => c.id));
  if (top.size === 0) return 0;
  let shared = 0;
  for (const c of dense.slice(0, AGREEMENT_DEPTH)) if (top.has(c.id)) shared++;
  return shared / Math.max(top.size, Math.min(AGREEMENT_DEPTH, dense.length));
}

/** The fused ranking, best first (ties by id, so the order is deterministic). Lists must be best first. */
export function fuse(
  dense: readonly ScoredId[],
  lexical: readonly ScoredId[],
  method: FusionMethod,
): ScoredId[] {
  // One side alone (a lexical- or dense-only run, or a side that found nothing) keeps its own order.
  if (dense.length === 0) return [...lexical];
  if (lexical.length === 0) return [...dense];
  let scores: Map<string, number>;
  switch (method.kind) {
    case 'rrf':
      scores = reciprocalRankFusion(
        [dense.map((c) => c.id), lexical.map((c) => c.id)],
        [method.denseWeight, 1],
        method.k ?? RRF_K,
      );
      break;
    case 'convex':
      scores = convex(dense, lexical, method.normalization, method.denseWeight);
      break;
    case 'agreement':
      scores = convex(dense, lexical, 'minmax', method.denseWeight * listAgreement(dense, lexical));
      break;
  }
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The candidates `minirag eval --cv` chooses among. A dense weight of 0 (lexical alone) is among them on
 * purpose: a fold whose training queries gain nothing from the dense side keeps the lexical ranking.
 */
export function fusionCandidates(): FusionMethod[] {
  const weights = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1];
  return [
    ...[0, 0.25, 0.5, 0.75, 1].map((w): FusionMethod => ({ kind: 'rrf', denseWeight: w })),
    ...weights.map((w): FusionMethod => ({ kind: 'convex', normalization: 'minmax', denseWeight: w })),
    ...weights.map((w): FusionMethod => ({ kind: 'convex', normalization: 'zscore', denseWeight: w })),
    ...weights.filter((w) => w > 0).map((w): FusionMethod => ({ kind: 'agreement', denseWeight: w })),
  ];
}
