import { countTokens, encode, tokenByteLength } from '../tokenizer.ts';

/** A slice of a longer string, `start`/`end` in UTF-16 offsets, with its own token count. */
export interface TokenSpan {
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  // A lone surrogate is encoded as U+FFFD (3 bytes), as TextEncoder does.
  return codePoint < 0x10000 ? 3 : 4;
}

/**
 * Character offsets after each token that ends exactly on a code point boundary, with the
 * number of tokens before it. A token that ends inside a multi-byte character (common in CJK
 * and emoji) is not a place where a string can be cut.
 */
function cleanCuts(text: string): { chars: number[]; tokens: number[] } {
  const ids = encode(text);
  const chars: number[] = [];
  const tokens: number[] = [];
  let bytes = 0;
  let charOffset = 0;
  let charBytes = 0;
  for (let i = 0; i < ids.length; i++) {
    bytes += tokenByteLength(ids[i] ?? 0);
    while (charBytes < bytes && charOffset < text.length) {
      const codePoint = text.codePointAt(charOffset) ?? 0;
      charBytes += utf8Length(codePoint);
      charOffset += codePoint > 0xffff ? 2 : 1;
    }
    if (charBytes === bytes) {
      chars.push(charOffset);
      tokens.push(i + 1);
    }
  }
  return { chars, tokens };
}

/**
 * Splits one pre-token that is too long for a chunk (a 10k-character "word", an unpunctuated
 * CJK paragraph) into spans of at most `maxTokens` tokens, cutting only between tokens and never
 * inside a character. Each span's count is the real count of the span on its own, which can
 * differ from the number of tokens it had inside the longer string.
 */
export function splitAtTokenBoundaries(text: string, maxTokens: number): TokenSpan[] {
  const cuts = cleanCuts(text);
  const spans: TokenSpan[] = [];
  let start = 0;
  let startTokens = 0;
  let next = 0;
  while (start < text.length) {
    while (next < cuts.chars.length && (cuts.chars[next] ?? 0) <= start) next++;
    let candidate = next;
    while (
      candidate + 1 < cuts.chars.length &&
      (cuts.tokens[candidate + 1] ?? 0) - startTokens <= maxTokens
    ) {
      candidate++;
    }
    let end = cuts.chars[candidate] ?? text.length;
    let tokens = countTokens(text.slice(start, end));
    while (tokens > maxTokens && candidate > next) {
      candidate--;
      end = cuts.chars[candidate] ?? text.length;
      tokens = countTokens(text.slice(start, end));
    }
    spans.push({ start, end, tokens });
    start = end;
    startTokens = cuts.tokens[candidate] ?? 0;
  }
  return spans;
}
