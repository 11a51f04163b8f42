/**
 * Two runs compared query by query: how many queries each wins, and a two-sided sign test of whether
 * the wins and losses could come from a fair coin (ties are dropped, as the sign test does).
 */

export interface PairedComparison {
  readonly queries: number;
  readonly wins: number;
  readonly losses: number;
  readonly ties: number;
  /** Mean of b − a over the paired queries. */
  readonly meanDifference: number;
  /** Two-sided exact sign test p-value; 1 when every query ties. */
  readonly pValue: number;
}

/** Differences smaller than this are ties: the same ranking can score 1e-16 apart after float sums. */
const TIE = 1e-9;

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space so large n does not underflow. */
function binomialHalfCdf(k: number, n: number): number {
  let logChoose = 0; // log C(n, 0)
  let total = 0;
  const logHalfN = n * Math.log(0.5);
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log((n - i + 1) / i);
    total += Math.exp(logChoose + logHalfN);
  }
  return total;
}

export function signTest(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(wins, losses), n));
}

/** Compares b against a on the queries both scored (by query id); a win is b scoring higher. */
export function comparePaired(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
): PairedComparison {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  let sum = 0;
  for (const [id, before] of a) {
    const after = b.get(id);
    if (after === undefined) continue;
    const d = after - before;
    sum += d;
    if (d > TIE) wins++;
    else if (d < -TIE) losses++;
    else ties++;
  }
  const queries = wins + losses + ties;
  return {
    queries,
    wins,
    losses,
    ties,
    meanDifference: queries === 0 ? 0 : sum / queries,
    pValue: signTest(wins, losses),
  };
}
