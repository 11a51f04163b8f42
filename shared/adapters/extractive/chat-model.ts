import type { ChatEvent, ChatModel, ChatRequest, ContextPassage } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { matchedTerms, questionTerms, sentenceTerms } from './sentence-scoring.ts';

const LEAD =
  'No LLM is configured for this bot, so this answer quotes the most relevant passages from its knowledge base:';
const NOTHING_FOUND =
  'No LLM is configured for this bot, and nothing in its knowledge base matches the question, so there is nothing to quote.';
const MAX_QUOTES = 3;
const MAX_QUOTE_CHARS = 400;

/**
 * The answerer of a bot without an LLM (and of the whole local mode without a key): it quotes the
 * retrieved sentences that share the most (rarest) terms with the question, each with its citation
 * marker. Deterministic, offline, free: usage is counted so the bill shows the traffic at price 0.
 */
export function createExtractiveAnswerer(): ChatModel {
  return {
    provider: 'extractive',
    model: 'extractive-v1',
    stream: (req) => streamAnswer(req),
    async complete(req) {
      const text = extractiveAnswer(req.question, req.passages);
      req.signal?.throwIfAborted();
      return { text, inputTokens: promptTokens(req), outputTokens: countTokens(text) };
    },
  };
}

async function* streamAnswer(req: ChatRequest): AsyncGenerator<ChatEvent> {
  const text = extractiveAnswer(req.question, req.passages);
  // Word-sized deltas (each word with the whitespace after it), as an LLM stream would arrive.
  for (const word of text.split(/(?<=\s)(?=\S)/)) {
    req.signal?.throwIfAborted();
    yield { type: 'delta', text: word };
  }
  req.signal?.throwIfAborted();
  yield { type: 'usage', inputTokens: promptTokens(req), outputTokens: countTokens(text) };
}

/** The full answer text: a lead line saying no LLM is configured, then the best sentences quoted. */
export function extractiveAnswer(question: string, passages: readonly ContextPassage[]): string {
  const candidates = passages.flatMap((passage, passageRank) =>
    splitSentences(passage.content).map((sentence, position) => ({
      n: passage.n,
      sentence,
      terms: sentenceTerms(sentence),
      order: passageRank * 10_000 + position,
    })),
  );
  if (candidates.length === 0) return NOTHING_FOUND;

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
  // With no shared term at all, retrieval's own best passage is still the best guess.
  const best = ranked.length > 0 ? ranked : scored.slice(0, 1);

  const seen = new Set<string>();
  const quotes: string[] = [];
  for (const { sentence, n } of best) {
    const key = sentence.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    quotes.push(`"${clip(sentence)}" [${n}]`);
    if (quotes.length === MAX_QUOTES) break;
  }
  return `${LEAD}\n\n${quotes.join('\n')}`;
}

function splitSentences(content: string): string[] {
  const sentences = content
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
  // A Markdown heading names a section; it is not an answer. Quote one only if nothing else is there.
  const prose = sentences.filter((s) => !/^#{1,6}\s/.test(s));
  return prose.length > 0 ? prose : sentences;
}

function clip(sentence: string): string {
  if (sentence.length <= MAX_QUOTE_CHARS) return sentence;
  const cut = sentence.slice(0, MAX_QUOTE_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_QUOTE_CHARS / 2))}…`;
}

/** What an LLM would have been sent, so usage is comparable across providers. */
function promptTokens(req: ChatRequest): number {
  return [req.system, ...req.messages.map((m) => m.content)].reduce(
    (sum, text) => sum + countTokens(text),
    0,
  );
}
