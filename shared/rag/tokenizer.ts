/**
 * The one place that knows which BPE encoding MiniRAG counts tokens with.
 *
 * cl100k_base, because chunk sizes are budgets for the embedding models (OpenAI's
 * text-embedding-3-* and ada-002 all use cl100k_base). Importing the per-encoding module loads
 * only that encoding's ranks (bundled in the package: no network); the package's root entry
 * would load o200k_base as well.
 */

// The same table the encoding module loaded (one module instance), not a second copy.
import ranks from 'gpt-tokenizer/bpeRanks/cl100k_base';
import {
  countTokens as countWithEncoding,
  decode as decodeTokens,
  encode as encodeText,
} from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/**
 * Document text may legitimately contain "<|endoftext|>" and friends; they are counted as the
 * plain text they are instead of making the tokenizer throw.
 */
const asPlainText = { disallowedSpecial: new Set<string>() };

export const tokenEncoding = 'cl100k_base';

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : countWithEncoding(text, asPlainText);
}

export function encode(text: string): number[] {
  return encodeText(text, asPlainText);
}

export function decode(tokens: Iterable<number>): string {
  return decodeTokens(tokens);
}

/**
 * The encoding's pre-tokenizer: BPE merges never cross a match of this pattern, so the token
 * count of a text is the sum of the counts of its matches. A fresh RegExp per caller because a
 * global RegExp carries `lastIndex` state.
 */
export function createPreTokenPattern(): RegExp {
  return new RegExp(CL100K_TOKEN_SPLIT_REGEX.source, 'gu');
}

/** UTF-8 length of one token, to find which token boundaries fall between characters. */
export function tokenByteLength(token: number): number {
  const value = ranks[token];
  if (value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}
