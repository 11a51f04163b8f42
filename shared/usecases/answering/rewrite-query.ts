import type { RewriteStatus } from '../../domain/answer-trace.ts';
import type { ChatModel, ChatTurn } from '../../ports/chat-model.ts';
import type { Logger } from '../../ports/logger.ts';
import { REWRITE_INSTRUCTIONS } from './prompt.ts';

/** The rewrite's answer is one question: this many tokens at most. */
export const REWRITE_MAX_OUTPUT_TOKENS = 100;

/** What the rewrite sends: the instructions and one message with the recent history and the question. */
export function rewritePrompt(
  question: string,
  history: readonly ChatTurn[],
): { system: string; content: string } {
  const transcript = history
    .slice(-6)
    .map((t) => `${t.role}: ${t.content.slice(0, 1000)}`)
    .join('\n');
  return {
    system: REWRITE_INSTRUCTIONS,
    content: `${transcript}\nuser: ${question}\n\nStandalone question:`,
  };
}

export interface RewriteResult {
  readonly query: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly rewritten: boolean;
  /** Skipped on a first turn or without a language model; failed falls back to the raw question. */
  readonly status: RewriteStatus;
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
  if (history.length === 0 || model.provider === 'extractive') return { ...raw, status: 'skipped' };
  const prompt = rewritePrompt(question, history);
  try {
    const out = await model.complete({
      system: prompt.system,
      messages: [{ role: 'user', content: prompt.content }],
      question,
      passages: [],
      temperature: 0,
      maxOutputTokens: REWRITE_MAX_OUTPUT_TOKENS,
      ...(signal ? { signal } : {}),
    });
    const query = out.text.trim().replace(/^"|"$/g, '');
    return {
      query: query || question,
      inputTokens: out.inputTokens,
      outputTokens: out.outputTokens,
      rewritten: !!query,
      status: query ? 'rewritten' : 'failed',
    };
  } catch (error) {
    logger.warn('query rewrite failed; using the raw question', { error: (error as Error).message });
    return { ...raw, status: 'failed' };
  }
}
