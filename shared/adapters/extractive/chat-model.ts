import type { ChatEvent, ChatModel, ChatRequest, ContextPassage } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { quotableSentences } from './quotable-sentences.ts';
import { RELEVANCE_FLOOR, relevanceScorer } from './relevance.ts';
import { matchedTerms, questionTerms, sentenceTerms } from './sentence-scoring.ts';

const LEAD =
  'No LLM is configured for this bot, so this answer quotes the most relevant passages from its knowledge base:';
export const NOTHING_ON_THIS =
  'No LLM is configured for this bot, and its knowledge base has nothing on this question, so there is nothing to quote.';
const MAX_QUOTES = 3;
/** A longer sentence is passed over for a shorter one (never cut); quoted only if nothing else is left. */
const LONG_SENTENCE_CHARS = 500;

/** The answer and the passages it cites, by their context numbers, in order of first use. */
export interface ExtractiveAnswer {
  readonly text: string;
  readonly sources: number[];
}

/**
 * The answerer of a bot without an LLM (and of the whole local mode without a key): it quotes the whole
 * retrieved sentences that share the most (rarest) terms with the question. Passages below the relevance
 * floor are not quoted; with none above it, the answer says the knowledge base has nothing on the
 * question. It knows its sources before its text, so its stream starts with a `sources` event and its
 * markers count [1]…[k] in order of first use. Deterministic, offline, free: usage is counted so the bill
 * shows the traffic at price 0.
 */
export function createExtractiveAnswerer(): ChatModel {
  return {
    provider: 'extractive',
    model: 'extractive-v1',
    stream: (req) => streamAnswer(req),
    async complete(req) {
      const { text } = extractiveAnswer(req.question, req.passages);
      req.signal?.throwIfAborted();
      return { text, inputTokens: promptTokens(req), outputTokens: countTokens(text) };
    },
  };
}

async function* streamAnswer(req: ChatRequest): AsyncGenerator<ChatEvent> {
  const { text, sources } = extractiveAnswer(req.question, req.passages);
  yield { type: 'sources', passages: sources };
  // Word-sized deltas (each word with the whitespace after it), as an LLM stream would arrive.
  for (const word of text.split(/(?<=\s)(?=\S)/)) {
    req.signal?.throwIfAborted();
    yield { type: 'delta', text: word };
  }
  req.signal?.throwIfAborted();
  yield { type: 'usage', inputTokens: promptTokens(req), outputTokens: countTokens(text) };
}

/** A lead line saying no LLM is configured, then the best sentences quoted, each with its marker. */
export function extractiveAnswer(question: string, passages: readonly ContextPassage[]): ExtractiveAnswer {
  const relevance = relevanceScorer(question);
  const relevant = passages
    .map((passage) => ({ passage, sentences: quotableSentences(passage.content) }))
    .filter(({ sentences }) => relevance(sentences) >= RELEVANCE_FLOOR);
  const candidates = relevant.flatMap(({ passage, sentences }, passageRank) =>
    sentences.map((sentence, position) => ({
      n: passage.n,
      sentence,
      terms: sentenceTerms(sentence),
      order: passageRank * 10_000 + position,
      long: sentence.length > LONG_SENTENCE_CHARS,
    })),
  );
  if (candidates.length === 0) return { text: NOTHING_ON_THIS, sources: [] };

  // Rarer terms say more: a term found in few sentences weighs more than one found everywhere.
  const wanted = questionTerms(question);
  const documentFrequency = new Map<string, number>();
  for (const { terms } of candidates) {
    for (const term of matchedTerms(wanted, terms))
      documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  const scored = candidates.map((c) => ({
    ...c,
    score: matchedTerms(wanted, c.terms).reduce(
      (sum, term) => sum + Math.log(1 + candidates.length / (documentFrequency.get(term) ?? 1)),
      0,
    ),
  }));
  // Ties go to the passage retrieval ranked higher, then to the earlier sentence.
  const ranked = scored.filter((c) => c.score > 0).sort((a, b) => b.score - a.score || a.order - b.order);
  const short = ranked.filter((c) => !c.long);
  // With no shared word (the passage matched on word forms), the most relevant passage's first sentence.
  const best = short.length > 0 ? short : ranked.length > 0 ? ranked : scored.slice(0, 1);

  const seen = new Set<string>();
  const chosen: { sentence: string; n: number }[] = [];
  for (const candidate of best) {
    const key = candidate.sentence.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    chosen.push(candidate);
    if (chosen.length === MAX_QUOTES) break;
  }
  // Renumbered in order of first use: the first quote cites [1], the next new passage [2]…
  const sources: number[] = [];
  const quotes = chosen.map(({ sentence, n }) => {
    if (!sources.includes(n)) sources.push(n);
    return `"${sentence}" [${sources.indexOf(n) + 1}]`;
  });
  return { text: `${LEAD}\n\n${quotes.join('\n')}`, sources };
}

/** What an LLM would have been sent, so usage is comparable across providers. */
function promptTokens(req: ChatRequest): number {
  return [req.system, ...req.messages.map((m) => m.content)].reduce(
    (sum, text) => sum + countTokens(text),
    0,
  );
}
