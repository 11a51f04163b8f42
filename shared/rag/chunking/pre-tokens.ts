import {
  Boundary,
  type BoundaryLevel,
  boundaryBefore,
  isUnspacedClauseEnd,
  isUnspacedSentenceEnd,
} from './boundary-strength.ts';
import { cacheableLength, countPreToken, countPreTokenAt } from './pre-token-counts.ts';
import { createPreTokenScanner } from './pre-token-scanner.ts';
import { type PreTokens, PreTokenTableBuilder } from './pre-token-table.ts';
import { splitAtTokenBoundaries } from './token-boundaries.ts';

/**
 * Byte-pair merging costs time quadratic in the length of a pre-token, so a pathological run of
 * letters (a megabyte of unpunctuated CJK, a base64 blob) is first cut into windows of this many
 * characters; only such texts have chunk boundaries that are not token boundaries of the whole run.
 */
const longestPreToken = 2048;

/** Moves a cut that would separate a surrogate pair one code unit back. */
function codePointAlignedEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

interface InnerBreak {
  readonly at: number;
  readonly level: BoundaryLevel;
}

const leadingMarks = /^[\p{M}\u200d]+/u;
/** Below this code point a character is neither a mark nor CJK punctuation. */
const firstSpecialCode = 0x300;

/**
 * The pre-tokenizer glues a leading mark to the word after it, so an unspaced CJK text
 * "…门。我爱…" has its sentence break inside the pre-token "。我爱…", and in "x\u0301y" the
 * only cut that keeps characters whole is inside "\u0301y". Such pre-tokens are cut there,
 * with a correction for the chunks that hold both halves (see cutCorrection).
 */
function innerBreakOf(preToken: string): InnerBreak | undefined {
  if (preToken.length < 2) return undefined;
  const code = preToken.charCodeAt(0);
  if (isUnspacedSentenceEnd(code)) return { at: 1, level: Boundary.sentence };
  if (isUnspacedClauseEnd(code)) return { at: 1, level: Boundary.word };
  const marks = leadingMarks.exec(preToken);
  if (marks && marks[0].length < preToken.length) return { at: marks[0].length, level: Boundary.insideWord };
  return undefined;
}

/**
 * Cuts a text into pre-tokens and counts them. Pre-tokens longer than `maxTokens` tokens are
 * cut between tokens (and marked as such), so that every entry fits in a chunk.
 */
export function scanPreTokens(text: string, maxTokens: number): PreTokens {
  const table = new PreTokenTableBuilder(text);
  const pushSized = (start: number, piece: string, level: BoundaryLevel, cut?: number): void => {
    const count = piece.length > longestPreToken ? Number.POSITIVE_INFINITY : countPreToken(piece);
    if (count <= maxTokens) {
      table.push(start, count, level, cut);
      return;
    }
    if (piece.length > longestPreToken) {
      for (let from = 0; from < piece.length; ) {
        const to = codePointAlignedEnd(piece, from + longestPreToken);
        const windowLevel = from === 0 ? level : Boundary.insideToken;
        pushSized(start + from, piece.slice(from, to), windowLevel, from > 0 ? Number.NaN : cut);
        from = to;
      }
      return;
    }
    for (const span of splitAtTokenBoundaries(piece, maxTokens)) {
      const first = span.start === 0;
      table.push(
        start + span.start,
        span.tokens,
        first ? level : Boundary.insideToken,
        first ? cut : Number.NaN,
      );
    }
  };
  /** A pre-token cut in two where a chunk may end; both halves fit in a chunk. */
  const pushInnerBreak = (start: number, preToken: string, level: BoundaryLevel, inner: InnerBreak): void => {
    const head = preToken.slice(0, inner.at);
    const rest = preToken.slice(inner.at);
    const headCount = countPreToken(head);
    const restCount = rest.length > longestPreToken ? Number.POSITIVE_INFINITY : countPreToken(rest);
    if (restCount > maxTokens || preToken.length > longestPreToken) {
      pushSized(start, head, level);
      pushSized(start + inner.at, rest, inner.level, Number.NaN);
      return;
    }
    table.push(start, headCount, level);
    table.push(start + inner.at, restCount, inner.level, countPreToken(preToken) - headCount - restCount);
  };

  const endOf = createPreTokenScanner(text);
  for (let start = 0, end = 0; start < text.length; start = end) {
    end = endOf(start);
    const level = start === 0 ? Boundary.heading : boundaryBefore(text, start);
    const length = end - start;
    // The common case inline: a short pre-token that cannot hold an unspaced sentence break.
    if (length <= cacheableLength && text.charCodeAt(start) < firstSpecialCode) {
      const count = countPreTokenAt(text, start, end);
      if (count <= maxTokens) {
        table.push(start, count, level);
        continue;
      }
    }
    const preToken = text.slice(start, end);
    const innerBreak = innerBreakOf(preToken);
    if (innerBreak === undefined) pushSized(start, preToken, level);
    else pushInnerBreak(start, preToken, level, innerBreak);
  }
  return table.build();
}
