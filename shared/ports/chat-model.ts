import type { MessageRole } from '../domain/chat.ts';

/** One numbered passage of retrieved context; `n` is the number its citation marker `[n]` uses. */
export interface ContextPassage {
  readonly n: number;
  readonly sourceId: string;
  readonly title: string;
  readonly content: string;
}

export interface ChatTurn {
  readonly role: MessageRole;
  readonly content: string;
}

export interface ChatRequest {
  /** The system prompt: the bot's own plus the platform's instructions. */
  readonly system: string;
  /** History and the current user turn, with the context already rendered into it by the orchestrator. */
  readonly messages: readonly ChatTurn[];
  /** The current (rewritten) question, plain. */
  readonly question: string;
  /** The numbered context, structured: the extractive answerer reads this instead of `messages`. */
  readonly passages: readonly ContextPassage[];
  /**
   * Sampling temperature, where the provider still accepts one. Anthropic's API version 2026-10-21 (the
   * one the installed SDK speaks) rejects any temperature, so the Anthropic adapter ignores it.
   */
  readonly temperature?: number;
  readonly maxOutputTokens?: number;
  /** Aborting stops the provider request; the iterator / promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/**
 * Text as it arrives, then exactly one `usage` after the last delta of a complete answer. An answerer
 * that picks its sources before it writes (the extractive one) starts with `sources`: the passages its
 * text cites, by their context numbers, in order of first use — its markers then count [1]…[k] in that
 * order, and the caller numbers the citations the same way. Without it, markers use the context numbers.
 */
export type ChatEvent =
  | { readonly type: 'sources'; readonly passages: readonly number[] }
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'usage'; readonly inputTokens: number; readonly outputTokens: number };

export interface ChatCompletion {
  readonly text: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * The ChatModel port. Contract every adapter keeps (the contract suite checks it):
 * - failures are `ProviderError`s: status 400 for a rejected bot credential, 429 (with
 *   `retryAfterSeconds`) for the provider's rate limit, 502 for everything else; messages never contain
 *   a credential;
 * - `stream` retries transient failures only until the first delta was yielded; after that an error is
 *   thrown from the iterator (the deltas already yielded stay yielded) and never retried, so a caller
 *   never sees text twice;
 * - a stream that stops before the provider said it was done throws ProviderError 502, never ends
 *   quietly with half an answer;
 * - aborting `signal` rejects with `signal.reason`, not a ProviderError.
 */
export interface ChatModel {
  /** 'openai' | 'openai-compatible' | 'anthropic' | 'extractive': the key usage events and prices use. */
  readonly provider: string;
  readonly model: string;
  stream(req: ChatRequest): AsyncIterable<ChatEvent>;
  complete(req: ChatRequest): Promise<ChatCompletion>;
}
