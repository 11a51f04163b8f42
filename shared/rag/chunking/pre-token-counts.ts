import { countTokens } from '../tokenizer.ts';

/**
 * Token counts of short pre-tokens, remembered. Words repeat (" the", " of", ".\n"), so nearly
 * every lookup hits; the table is keyed by a hash of the characters in place, so a hit costs no
 * substring and no garbage (2 million substrings per 10 MB were a fifth of the chunker's time).
 */
const capacity = 1 << 18;
const mask = capacity - 1;
/** Longer pre-tokens rarely repeat and are counted directly. */
export const cacheableLength = 48;

const keys: (string | undefined)[] = new Array(capacity).fill(undefined);
const hashes = new Int32Array(capacity);
const counts = new Int32Array(capacity);
let size = 0;

function sameCharacters(key: string, text: string, start: number): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

/** The token count of `text.slice(start, end)`, as the tokenizer gives it for that string alone. */
export function countPreTokenAt(text: string, start: number, end: number): number {
  const length = end - start;
  if (length > cacheableLength) return countTokens(text.slice(start, end));
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  let slot = (hash ^ (hash >>> 15)) & mask;
  for (;;) {
    const key = keys[slot];
    if (key === undefined) break;
    if (hashes[slot] === hash && key.length === length && sameCharacters(key, text, start))
      return counts[slot] ?? 0;
    slot = (slot + 1) & mask;
  }
  const preToken = text.slice(start, end);
  const count = countTokens(preToken);
  if (size >= capacity >>> 1) {
    // Full: start over rather than evict; a document's vocabulary refills it quickly.
    keys.fill(undefined);
    size = 0;
    return count;
  }
  keys[slot] = preToken;
  hashes[slot] = hash;
  counts[slot] = count;
  size++;
  return count;
}

export function countPreToken(preToken: string): number {
  return countPreTokenAt(preToken, 0, preToken.length);
}
