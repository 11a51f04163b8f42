import type { BotProfile } from '../../domain/bot.ts';
import type { ChatRequest, ChatTurn, ContextPassage } from '../../ports/chat-model.ts';

/** What the platform adds to every bot's own system prompt. */
export const PLATFORM_INSTRUCTIONS =
  'Answer the question using only the numbered sources provided. Cite every claim with the source ' +
  'number in square brackets, like [1] or [2]. If the sources do not contain the answer, say so plainly.';

/** The system prompt of the query rewrite (see rewrite-query.ts). */
export const REWRITE_INSTRUCTIONS =
  'Rewrite the last user message as one standalone search question that can be understood without the ' +
  'conversation. Keep names, numbers and technical terms. Answer with the question only.';

/** Earlier turns of the conversation the model sees with the question. */
const HISTORY_TURNS = 10;

/** The question as the model sees it: the numbered passages first, then the question itself. */
export function groundedQuestion(question: string, passages: readonly ContextPassage[]): string {
  const rendered = passages.map((p) => `[${p.n}] ${p.title}\n${p.content}`).join('\n\n');
  return `Sources:\n${rendered || '(no sources found)'}\n\nQuestion: ${question}`;
}

/**
 * The generation request for one answer: the bot's system prompt plus the platform's instructions, the
 * recent history, and the user's question grounded in the passages. `query` is the rewritten question
 * the extractive answerer matches against the passages.
 */
export function answerRequest(
  bot: BotProfile,
  history: readonly ChatTurn[],
  question: string,
  query: string,
  passages: readonly ContextPassage[],
): ChatRequest {
  return {
    system: [bot.systemPrompt, PLATFORM_INSTRUCTIONS].filter(Boolean).join('\n\n'),
    messages: [
      ...history.slice(-HISTORY_TURNS),
      { role: 'user', content: groundedQuestion(question, passages) },
    ],
    question: query,
    passages,
    ...(bot.temperature !== null ? { temperature: bot.temperature } : {}),
    ...(bot.maxOutputTokens !== null ? { maxOutputTokens: bot.maxOutputTokens } : {}),
  };
}
