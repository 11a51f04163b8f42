/**
 * How good a place to cut a text the start of a pre-token is. The chunker splits on the
 * strongest boundaries first (headings, then paragraphs, lines, sentences, words) and uses the
 * weaker ones only for pieces that are still too big.
 */
export const Boundary = {
  /** A cut inside one pre-token, between two of its tokens: counts must be re-checked. */
  insideToken: 0,
  /** Before a combining mark or around a zero-width joiner: would break a character apart. */
  insideGrapheme: 1,
  /** Between pre-tokens with no whitespace between them ("don|'t", "3|.|14", "foo|("). */
  insideWord: 2,
  word: 3,
  sentence: 4,
  line: 5,
  paragraph: 6,
  heading: 7,
} as const;

export type BoundaryLevel = (typeof Boundary)[keyof typeof Boundary];

const combiningMark = /\p{M}/u;
const zeroWidthJoiner = 0x200d;

/** The same set as JavaScript's `\s` and `String.prototype.trim`. */
export function isWhitespaceCode(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isSentenceEnd(code: number): boolean {
  // . ! ? and the horizontal ellipsis
  return code === 46 || code === 33 || code === 63 || code === 0x2026;
}

/** Ideographic full stop, fullwidth ! and ?: CJK sentences end without a following space. */
export function isUnspacedSentenceEnd(code: number): boolean {
  return code === 0x3002 || code === 0xff01 || code === 0xff1f;
}

/** CJK comma, enumeration comma, semicolon and colon: the clause breaks of unspaced scripts. */
export function isUnspacedClauseEnd(code: number): boolean {
  return code === 0xff0c || code === 0x3001 || code === 0xff1b || code === 0xff1a;
}

/** Closing quotes and brackets that may follow a sentence's full stop. */
function isCloser(code: number): boolean {
  return (
    code === 41 ||
    code === 93 ||
    code === 34 ||
    code === 39 ||
    code === 0x2019 ||
    code === 0x201d ||
    code === 0xbb
  );
}

function startsHeading(text: string, at: number): boolean {
  let hashes = 0;
  while (text.charCodeAt(at + hashes) === 35 && hashes < 7) hashes++;
  return hashes >= 1 && hashes <= 6 && text.charCodeAt(at + hashes) === 32;
}

/** Strength of a cut at `at` (0 < at < text.length), which is where a pre-token starts. */
export function boundaryBefore(text: string, at: number): BoundaryLevel {
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at);
  if (!isWhitespaceCode(before) && !isWhitespaceCode(after)) {
    if (after === zeroWidthJoiner || before === zeroWidthJoiner) return Boundary.insideGrapheme;
    if (after >= 0x300 && combiningMark.test(text[at] ?? '')) return Boundary.insideGrapheme;
    if (isUnspacedSentenceEnd(before)) return Boundary.sentence;
    if (isUnspacedClauseEnd(before)) return Boundary.word;
    return Boundary.insideWord;
  }
  let gapStart = at;
  while (gapStart > 0 && isWhitespaceCode(text.charCodeAt(gapStart - 1))) gapStart--;
  let gapEnd = at;
  while (gapEnd < text.length && isWhitespaceCode(text.charCodeAt(gapEnd))) gapEnd++;
  let newlines = 0;
  for (let i = gapStart; i < gapEnd && newlines < 2; i++) if (text.charCodeAt(i) === 10) newlines++;
  if (newlines > 0) {
    if (startsHeading(text, gapEnd)) return Boundary.heading;
    return newlines >= 2 ? Boundary.paragraph : Boundary.line;
  }
  let last = gapStart - 1;
  while (last > 0 && isCloser(text.charCodeAt(last))) last--;
  return last >= 0 && isSentenceEnd(text.charCodeAt(last)) ? Boundary.sentence : Boundary.word;
}
