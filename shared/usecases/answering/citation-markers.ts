// Reading `[n]` markers out of an answer: apart from context assembly so the HTTP formatting that
// needs it does not load the tokenizer.

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

/** The `[n]` markers an answer actually uses, in order of first use, limited to known passages. */
export function citedNumbers(answer: string, passageCount: number): number[] {
  return citationMarkers(answer, passageCount).map((m) => m.n);
}
