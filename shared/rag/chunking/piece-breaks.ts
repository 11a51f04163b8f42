import { Boundary, type BoundaryLevel } from './boundary-strength.ts';
import type { PreTokens } from './pre-token-table.ts';

/**
 * Recursive splitting, done on boundary strengths instead of strings: a span that fits in
 * `maxTokens` is one piece; a span that does not is cut at every boundary of the current
 * strength (headings first, then paragraphs, lines, sentences, words, and finally between
 * tokens), and each part that still does not fit is cut again one strength lower.
 *
 * Returns the pre-token index at which each piece ends, ascending; the last one is
 * `preTokens.length`. Pieces never exceed `maxTokens` by their summed counts.
 */
export function pieceBreaks(preTokens: PreTokens, maxTokens: number): number[] {
  const { prefix, levels } = preTokens;
  const breaks: number[] = [];
  const fits = (from: number, to: number): boolean => (prefix[to] ?? 0) - (prefix[from] ?? 0) <= maxTokens;

  const split = (from: number, to: number, level: BoundaryLevel): void => {
    let partStart = from;
    for (let i = from + 1; i < to; i++) {
      if ((levels[i] ?? 0) >= level) {
        place(partStart, i, level);
        partStart = i;
      }
    }
    place(partStart, to, level);
  };

  const place = (from: number, to: number, parentLevel: BoundaryLevel): void => {
    if (parentLevel === Boundary.insideToken || to - from === 1 || fits(from, to)) breaks.push(to);
    else split(from, to, (parentLevel - 1) as BoundaryLevel);
  };

  if (preTokens.length === 0) return breaks;
  if (fits(0, preTokens.length)) breaks.push(preTokens.length);
  else split(0, preTokens.length, Boundary.heading);
  return breaks;
}
