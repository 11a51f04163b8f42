import { ValidationError } from '../../domain/errors.ts';
import type { ChatTurn, ContextPassage } from '../../ports/chat-model.ts';
import { countTokens } from '../../rag/tokenizer.ts';
import { groundedQuestion, HISTORY_TURNS, renderSources } from './prompt.ts';
import { REWRITE_MAX_OUTPUT_TOKENS, rewritePrompt } from './rewrite-query.ts';

/** Input tokens one question may send the model when its bot sets no max_input_tokens. */
export const DEFAULT_MAX_INPUT_TOKENS = 16_000;
/** Output a reservation assumes when the bot sets no max_output_tokens. */
export const DEFAULT_OUTPUT_RESERVATION_TOKENS = 2_048;
/**
 * What chat formats add around the text (role markers, separators): providers bill a few tokens per
 * message and per request beyond the content, and our count of the question message may differ by a
 * token or two where the sources are spliced in.
 */
const PER_MESSAGE_TOKENS = 4;
const PER_REQUEST_TOKENS = 8;

export interface InputPlan {
  /** The newest turns that fit, oldest first. */
  readonly history: ChatTurn[];
  /** Tokens left for the sources, as rendered into the question message. */
  readonly sourceTokens: number;
  /** An upper estimate of every token the request will bill: rewrite, query embedding, generation. */
  readonly reservedTokens: number;
}

/**
 * Fits one question into its bot's input limit: the instructions and the question must fit (400
 * otherwise); the sources get up to `contextBudgetTokens`, and at most half of what is left, so that a
 * small limit still leaves room for the conversation; history gets the rest, newest turns first. The reservation is what this plan can cost at most, so a request admitted on it cannot
 * run the tenant's budget over by more than that.
 */
export function planInput(input: {
  readonly system: string;
  readonly question: string;
  readonly history: readonly ChatTurn[];
  readonly maxInputTokens: number | null;
  readonly contextBudgetTokens: number;
  readonly maxOutputTokens: number | null;
  /** Whether a language model answers (and so rewrites follow-up questions). */
  readonly usesModel: boolean;
}): InputPlan {
  const limit = input.maxInputTokens ?? DEFAULT_MAX_INPUT_TOKENS;
  const fixed =
    PER_REQUEST_TOKENS +
    2 * PER_MESSAGE_TOKENS +
    countTokens(input.system) +
    countTokens(groundedQuestion(input.question, []));
  if (fixed > limit) {
    throw new ValidationError(
      `This question needs ${fixed} input tokens with the bot's instructions, over the bot's limit of ${limit} ` +
        '(max_input_tokens). Ask a shorter question or raise the limit.',
    );
  }
  const sourceTokens = Math.min(input.contextBudgetTokens, Math.floor((limit - fixed) / 2));
  let room = limit - fixed - sourceTokens;
  const history: ChatTurn[] = [];
  for (const turn of input.history.slice(-HISTORY_TURNS).reverse()) {
    const cost = countTokens(turn.content) + PER_MESSAGE_TOKENS;
    if (cost > room) break;
    room -= cost;
    history.unshift(turn);
  }
  const historyTokens = limit - fixed - sourceTokens - room;
  const generation =
    fixed + sourceTokens + historyTokens + (input.maxOutputTokens ?? DEFAULT_OUTPUT_RESERVATION_TOKENS);
  const rewrites = input.usesModel && history.length > 0;
  const rewrite = rewrites
    ? (() => {
        const prompt = rewritePrompt(input.question, history);
        return (
          PER_REQUEST_TOKENS +
          2 * PER_MESSAGE_TOKENS +
          countTokens(prompt.system) +
          countTokens(prompt.content) +
          REWRITE_MAX_OUTPUT_TOKENS
        );
      })()
    : 0;
  // The query embedded is the question or its rewrite.
  const embedding = Math.max(countTokens(input.question), rewrites ? REWRITE_MAX_OUTPUT_TOKENS : 0);
  return { history, sourceTokens, reservedTokens: generation + rewrite + embedding };
}

/**
 * Drops the lowest-ranked sources until the rendered sources fit the plan (the context assembly counts
 * passage text only; titles and numbering come on top).
 */
export function fitSources<P extends ContextPassage, C>(
  passages: readonly P[],
  citations: readonly C[],
  sourceTokens: number,
): { passages: P[]; citations: C[] } {
  let n = passages.length;
  while (n > 0 && countTokens(renderSources(passages.slice(0, n))) > sourceTokens) n--;
  return { passages: passages.slice(0, n), citations: citations.slice(0, n) };
}
