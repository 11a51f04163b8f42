import type { ChatModel, ChatTurn } from '../../ports/chat-model.ts';
import type { Logger } from '../../ports/logger.ts';
import { REWRITE_INSTRUCTIONS } from './prompt.ts';

export interface RewriteResult {
  readonly query: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly rewritten: boolean;
}

/**
 * Turns a follow-up ("and in 2023?") into a standalone question from the recent history. Skipped on the
 * first turn and for the extractive answerer (it has no language model); any failure falls back to the
 * raw question, so a flaky rewrite never blocks an answer.
 */
export async function rewriteQuery(
  question: string,
  history: readonly ChatTurn[],
  model: ChatModel,
  logger: Logger,
  signal?: AbortSignal,
): Promise<RewriteResult> {
  const raw = { query: question, inputTokens: 0, outputTokens: 0, rewritten: false };
  if (history.length === 0 || model.provider === 'extractive') return raw;
  const transcript = history
    .slice(-6)
    .map((t) => `${t.role}: ${t.content.slice(0, 1000)}`)
    .join('\n');
  try {
    const out = await model.complete({
      system: REWRITE_INSTRUCTIONS,
      messages: [{ role: 'user', content: `${transcript}\nuser: ${question}\n\nStandalone question:` }],
      question,
      passages: [],
      temperature: 0,
      maxOutputTokens: 100,
      ...(signal ? { signal } : {}),
    });
    const query = out.text.trim().replace(/^"|"$/g, '');
    return {
      query: query || question,
      inputTokens: out.inputTokens,
      outputTokens: out.outputTokens,
      rewritten: !!query,
    };
  } catch (error) {
    logger.warn('query rewrite failed; using the raw question', { error: (error as Error).message });
    return raw;
  }
}
