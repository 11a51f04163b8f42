/**
 * An embedder that needs no network and no model download, for `npm start` without a provider
 * key, for tests, and for benchmarks.
 *
 * It is a LEXICAL similarity model, not a semantic one: a text's vector is a feature-hashed bag
 * of its stemmed content words, word bigrams and character trigrams (sublinear term frequency,
 * signed hashing into `dimensions` buckets, L2-normalised). Texts that share words and word
 * forms come out close; paraphrases with different words ("car" / "automobile") do not, and
 * nothing crosses languages. Use a provider's embedding model when meaning matters.
 */
import type { Embedder, EmbeddingResult } from '../../ports/embedder.ts';
import { FeatureCounter } from './feature-counter.ts';
import { contentWords, stem } from './lexical-features.ts';

export interface OfflineEmbedderOptions {
  readonly dimensions?: number;
}

// Whole words carry the most evidence; bigrams add phrase matches; trigrams catch word forms
// the stemmer misses, typos and unspaced scripts, but are many, so each weighs little.
const weights = [1, 0.6, 0.25];
const unigram = 0;
const bigram = 1;
const trigram = 2;
const seeds = [0x811c9dc5, 0x01000193, 0x9e3779b9];

/** murmur3's finaliser: spreads FNV's weak low bits over the whole word. */
function avalanche(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`, continuing from `hash`. */
function fnv(text: string, hash: number): number {
  let next = hash;
  for (let i = 0; i < text.length; i++) next = Math.imul(next ^ text.charCodeAt(i), 0x01000193);
  return next;
}

/** The trigram at `at` of the word framed by spaces (" word "), hashed without building it. */
function trigramHash(word: string, at: number): number {
  let hash = seeds[trigram] ?? 0;
  for (let i = at; i < at + 3; i++) {
    const code = i === 0 || i === word.length + 1 ? 32 : word.charCodeAt(i - 1);
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  return avalanche(hash);
}

const counter = new FeatureCounter();

export function embedText(text: string, dimensions: number): number[] {
  let previous: number | undefined;
  for (const word of contentWords(text)) {
    const stemmed = fnv(stem(word), seeds[unigram] ?? 0);
    counter.add(avalanche(stemmed), unigram);
    // The bigram hash continues the previous word's hash across a separator: no string built.
    if (previous !== undefined)
      counter.add(avalanche(fnv(' ', previous) ^ Math.imul(stemmed, 0x27d4eb2d)), bigram);
    previous = stemmed;
    for (let at = 0; at + 3 <= word.length + 2; at++) counter.add(trigramHash(word, at), trigram);
  }
  const vector = new Float64Array(dimensions);
  counter.drain((hash, kind, termFrequency) => {
    // The top bit picks the sign, so colliding features cancel out on average instead of adding up.
    const sign = hash & 0x80000000 ? -1 : 1;
    const bucket = (hash & 0x7fffffff) % dimensions;
    vector[bucket] = (vector[bucket] ?? 0) + sign * (weights[kind] ?? 0) * (1 + Math.log(termFrequency));
  });
  let norm = 0;
  for (const value of vector) norm += value * value;
  // A text with no content words gets a fixed unit vector: cosine distance is undefined for zero.
  if (norm === 0) {
    vector[0] = 1;
    norm = 1;
  }
  const scale = 1 / Math.sqrt(norm);
  return Array.from(vector, (value) => value * scale);
}

export function createOfflineEmbedder(options: OfflineEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 2) {
    throw new RangeError('The offline embedder needs a whole number of dimensions, at least 2');
  }
  return {
    space: { provider: 'offline', model: 'hashed-ngrams-v1', dimensions },
    maxBatchSize: 128,
    async embed(texts, embedOptions): Promise<EmbeddingResult> {
      embedOptions?.signal?.throwIfAborted();
      return { vectors: texts.map((text) => embedText(text, dimensions)), inputTokens: 0 };
    },
  };
}
