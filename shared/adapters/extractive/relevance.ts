import { embedText } from '../offline/embedder.ts';

/** Wide enough that hash collisions add little noise to a score compared against a fixed floor. */
const DIMENSIONS = 1024;

/**
 * How much a passage is about the question: the best cosine, over every run of up to three consecutive
 * quotable sentences (a sentence with its neighbours), of their offline lexical vectors and the question's
 * (stemmed content words, word pairs, character trigrams; see adapters/offline). It depends on the texts
 * alone — not on the size of the knowledge base, nor on which embedder retrieval used — and, measured on a
 * few sentences rather than the whole passage, not on how long the chunks are, so one floor holds for every
 * tenant. The question's vector is made once and reused across its passages.
 */
export function relevanceScorer(question: string): (sentences: readonly string[]) => number {
  const q = embedText(question, DIMENSIONS);
  return (sentences) => {
    let best = -1;
    for (let i = 0; i < sentences.length; i++) {
      const window = sentences.slice(Math.max(0, i - 1), i + 2).join(' ');
      best = Math.max(best, cosine(q, embedText(window, DIMENSIONS)));
    }
    return best;
  };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  // Both are L2-normalised.
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

/**
 * Below this, the best retrieved passage is not about the question, and the extractive answerer says its
 * knowledge base has nothing on it instead of quoting. Chosen on Cranfield (1,400 aeronautics abstracts,
 * the 150 dev queries) against off-topic questions (`bench/extractive-floor.ts`; numbers in
 * docs/performance.md, "Extractive answers: the relevance floor").
 */
export const RELEVANCE_FLOOR = 0.2;
