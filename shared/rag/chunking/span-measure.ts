import { countTokens } from '../tokenizer.ts';
import { isWhitespaceCode } from './boundary-strength.ts';
import { countPreToken, countPreTokenAt } from './pre-token-counts.ts';
import { createPreTokenScanner } from './pre-token-scanner.ts';
import { cutCorrection, hasCutInside, type PreTokens } from './pre-token-table.ts';

/** A run of pre-tokens with its surrounding whitespace trimmed, and its exact token count. */
export interface MeasuredSpan {
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
}

/**
 * Measures pre-tokens [from, to) as the chunk `text.slice(start, end)` they would become
 * (whitespace trimmed), with the count the tokenizer gives for exactly that string.
 *
 * Why the sum of pre-token counts is exact: the pre-tokenizer has no look-behind, so matching
 * from a pre-token's start reproduces the same matches as in the whole text, and the chunk ends
 * on a non-space character, which no earlier match can reach past. Only the edges differ from
 * the whole text: a first pre-token that lost its leading space, a last one that lost trailing
 * whitespace. Those two are re-counted, and cuts inside a pre-token that the chunk holds both
 * sides of are corrected for. Where the argument does not hold (a chunk starting mid-match, a
 * cut of unknown correction), the chunk is counted in full.
 */
export function createSpanMeasure(preTokens: PreTokens): (from: number, to: number) => MeasuredSpan {
  const { text, starts, prefix } = preTokens;
  const countOf = (index: number): number => (prefix[index + 1] ?? 0) - (prefix[index] ?? 0);
  const preTokenEnd = createPreTokenScanner(text);

  const headCount = (first: number, start: number): number | undefined => {
    if (start === starts[first] && !hasCutInside(preTokens, first - 1, first)) return countOf(first);
    const end = preTokenEnd(start);
    return end === starts[first + 1] ? countPreTokenAt(text, start, end) : undefined;
  };

  return (from, to) => {
    const limit = starts[to] ?? text.length;
    let start = starts[from] ?? limit;
    while (start < limit && isWhitespaceCode(text.charCodeAt(start))) start++;
    if (start === limit) return { start, end: start, tokens: 0 };
    let end = limit;
    while (isWhitespaceCode(text.charCodeAt(end - 1))) end--;

    let first = from;
    while ((starts[first + 1] ?? limit) <= start) first++;
    let last = to - 1;
    while ((starts[last] ?? 0) >= end) last--;
    if (first === last) return { start, end, tokens: countPreToken(text.slice(start, end)) };

    const correction = cutCorrection(preTokens, first, last);
    const head = correction === undefined ? undefined : headCount(first, start);
    if (head === undefined || correction === undefined) {
      return { start, end, tokens: countTokens(text.slice(start, end)) };
    }
    const lastStart = starts[last] ?? 0;
    const tail = end === starts[last + 1] ? countOf(last) : countPreToken(text.slice(lastStart, end));
    const middle = (prefix[last] ?? 0) - (prefix[first + 1] ?? 0);
    return { start, end, tokens: head + middle + tail + correction };
  };
}
