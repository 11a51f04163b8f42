import { createPreTokenPattern } from '../tokenizer.ts';

/**
 * Finds where the cl100k_base pre-token starting at `at` ends, exactly as the encoding's regex
 *
 *   '(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+(?!\S)|\s
 *
 * would, but with a hand-written scanner for ASCII, which is most of most documents: the
 * Unicode-aware regex is the largest single cost of chunking. As soon as the match would depend
 * on a non-ASCII character, the regex itself decides. A test compares the two on random text.
 */

const letter = 1;
const digit = 2;
const lineBreak = 3;
const blank = 4;
const other = 5;

const asciiClass = new Uint8Array(128).fill(other);
for (let code = 65; code <= 90; code++) asciiClass[code] = letter;
for (let code = 97; code <= 122; code++) asciiClass[code] = letter;
for (let code = 48; code <= 57; code++) asciiClass[code] = digit;
asciiClass[10] = lineBreak;
asciiClass[13] = lineBreak;
for (const code of [9, 11, 12, 32]) asciiClass[code] = blank;

/** Class of the character at `at`: 0 past the end, -1 for non-ASCII (undecidable here). */
function classAt(text: string, at: number): number {
  if (at >= text.length) return 0;
  const code = text.charCodeAt(at);
  return code < 128 ? (asciiClass[code] ?? other) : -1;
}

function contractionEnd(text: string, at: number): number {
  const next = text.charCodeAt(at + 1) | 32;
  if (next === 115 || next === 100 || next === 109 || next === 116) return at + 2; // s d m t
  const after = text.charCodeAt(at + 2) | 32;
  if ((next === 108 && after === 108) || ((next === 118 || next === 114) && after === 101)) return at + 3; // ll ve re
  return -1;
}

/** End of a run of letters from `from`, or -1 if it runs into a non-ASCII character. */
function lettersEnd(text: string, from: number): number {
  let end = from;
  for (;;) {
    const kind = classAt(text, end);
    if (kind === letter) end++;
    else return kind === -1 ? -1 : end;
  }
}

function fastEnd(text: string, at: number): number {
  const code = text.charCodeAt(at);
  if (code >= 128) return -1;
  const kind = asciiClass[code] ?? other;
  if (code === 39) {
    const end = contractionEnd(text, at);
    if (end !== -1) return end;
  }
  if (kind === letter) return lettersEnd(text, at + 1);
  if (kind !== lineBreak && kind !== digit) {
    const next = classAt(text, at + 1);
    if (next === -1) return -1;
    if (next === letter) return lettersEnd(text, at + 2);
  }
  if (kind === digit) {
    let end = at + 1;
    while (end < at + 3) {
      const next = classAt(text, end);
      if (next === -1) return -1;
      if (next !== digit) break;
      end++;
    }
    return end;
  }
  if (kind === other || code === 32) {
    let end = code === 32 ? at + 1 : at;
    let punctuation = 0;
    for (;;) {
      const next = classAt(text, end);
      if (next === -1) return -1;
      if (next !== other) break;
      end++;
      punctuation++;
    }
    if (punctuation > 0) {
      while (classAt(text, end) === lineBreak) end++;
      return end;
    }
    if (kind === other) return -1; // unreachable: an "other" character is its own punctuation
  }
  // Whitespace: the four whitespace alternatives, decided on the whole run.
  let runEnd = at;
  let lastLineBreak = -1;
  for (;;) {
    const next = classAt(text, runEnd);
    if (next === -1) return -1;
    if (next === lineBreak) lastLineBreak = runEnd;
    else if (next !== blank) break;
    runEnd++;
  }
  if (runEnd === text.length) return runEnd;
  if (lastLineBreak !== -1) return lastLineBreak + 1;
  return runEnd - at > 1 ? runEnd - 1 : at + 1;
}

/** A scanner over one text: `end(at)` is where the pre-token starting at `at` ends. */
export function createPreTokenScanner(text: string): (at: number) => number {
  const pattern = new RegExp(createPreTokenPattern().source, 'uy');
  return (at) => {
    const end = fastEnd(text, at);
    if (end !== -1) return end;
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    return match === null ? text.length : at + match[0].length;
  };
}
