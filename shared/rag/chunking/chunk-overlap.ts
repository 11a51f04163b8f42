import { Boundary } from './boundary-strength.ts';
import type { PreTokens } from './pre-token-table.ts';
import type { MeasuredSpan } from './span-measure.ts';

/**
 * How far past the budget, by summed counts, a candidate may be and still be measured exactly:
 * the summed count includes whitespace pre-tokens that trimming drops.
 */
const estimateSlack = 8;

/**
 * Where the next chunk starts so that it repeats the end of the previous one: the longest
 * trimmed run ending at `chunkEnd` that starts at a word boundary and counts at most `budget`
 * tokens, and starts after the previous chunk did (`textStart`). A sentence start is preferred when it gives at least half the budget, so that the
 * overlap reads as a whole sentence. `undefined` means no overlap.
 *
 * Candidates are ranked by their summed counts (free) and only the front runners are measured
 * exactly (a regex match and a cache lookup each).
 */
export function chooseOverlapStart(
  preTokens: PreTokens,
  measure: (from: number, to: number) => MeasuredSpan,
  {
    chunkStart,
    chunkEnd,
    textStart,
    budget,
  }: { chunkStart: number; chunkEnd: number; textStart: number; budget: number },
): number | undefined {
  if (budget <= 0 || chunkEnd >= preTokens.length) return undefined;
  const { prefix, levels } = preTokens;
  const endSum = prefix[chunkEnd] ?? 0;
  const words: number[] = [];
  const sentences: number[] = [];
  for (let at = chunkEnd - 1; at > chunkStart; at--) {
    const estimate = endSum - (prefix[at] ?? 0);
    if (estimate > budget + estimateSlack) break;
    const level = levels[at] ?? 0;
    if (level >= Boundary.sentence && estimate * 2 >= budget) sentences.push(at);
    if (level >= Boundary.word) words.push(at);
  }
  const longestWithin = (candidates: number[], atLeast: number): number | undefined => {
    for (let i = candidates.length - 1; i >= 0; i--) {
      const at = candidates[i] ?? chunkEnd;
      const span = measure(at, chunkEnd);
      if (span.tokens > 0 && span.tokens <= budget && span.start > textStart) {
        return span.tokens >= atLeast ? at : undefined;
      }
    }
    return undefined;
  };
  return longestWithin(sentences, budget / 2) ?? longestWithin(words, 1);
}
