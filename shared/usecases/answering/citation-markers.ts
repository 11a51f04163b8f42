// Reading `[n]` markers out of an answer: apart from context assembly so the HTTP formatting that
// needs it does not load the tokenizer.

import type { Citation } from '../../domain/chat.ts';

/** Where an answer first cites a passage: the `[n]` (or `[n, m]`) marker's character span. */
export interface CitationMarker {
  readonly n: number;
  readonly start: number;
  readonly end: number;
}

/** The passages an answer cites, in order of first use, each with its first marker; only known passages. */
export function citationMarkers(answer: string, passageCount: number): CitationMarker[] {
  const seen: CitationMarker[] = [];
  for (const match of answer.matchAll(/\[(\d{1,3})(?:\s*,\s*(\d{1,3}))*\]/g)) {
    for (const part of match[0].slice(1, -1).split(',')) {
      const n = Number(part.trim());
      if (n >= 1 && n <= passageCount && !seen.some((m) => m.n === n))
        seen.push({ n, start: match.index, end: match.index + match[0].length });
    }
  }
  return seen;
}

/**
 * `[n]` markers that point at no passage (the model invented a source number), in order of first use.
 * They are left out of the citations; a trace reports them.
 */
export function unknownCitations(answer: string, passageCount: number): number[] {
  const unknown: number[] = [];
  for (const match of answer.matchAll(/\[(\d{1,3})(?:\s*,\s*(\d{1,3}))*\]/g)) {
    for (const part of match[0].slice(1, -1).split(',')) {
      const n = Number(part.trim());
      if ((n < 1 || n > passageCount) && !unknown.includes(n)) unknown.push(n);
    }
  }
  return unknown;
}

/** The `[n]` markers an answer actually uses, in order of first use, limited to known passages. */
export function citedNumbers(answer: string, passageCount: number): number[] {
  return citationMarkers(answer, passageCount).map((m) => m.n);
}

/**
 * The citations an answerer chose up front (its `sources` event), numbered [1]…[k] in its order of first
 * use, as its text numbers them; the passages it does not cite are not listed. Unknown numbers are dropped.
 */
export function renumberCitations(citations: readonly Citation[], order: readonly number[]): Citation[] {
  const byNumber = new Map(citations.map((c) => [c.n, c]));
  return order
    .flatMap((n) => {
      const citation = byNumber.get(n);
      return citation ? [citation] : [];
    })
    .map((citation, index) => ({ ...citation, n: index + 1 }));
}
