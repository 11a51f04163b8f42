import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, MessageParam, Usage } from '@anthropic-ai/sdk/resources/messages';
import { ProviderError } from '#shared/domain/errors.ts';
import {
  type ChatAttemptPolicy,
  collectCompletion,
  streamWithRetries,
} from '#shared/llm/stream-with-retries.ts';
import type { ChatEvent, ChatModel, ChatRequest } from '#shared/ports/chat-model.ts';
import { anthropicError } from './anthropic-errors.ts';

export interface AnthropicChatModelOptions {
  readonly apiKey: string;
  readonly model: string;
  /** Default `https://api.anthropic.com` (without `/v1`: the SDK adds it). */
  readonly baseURL?: string;
  /** Longest wait for the first event and between two streamed events. Default 60 s. */
  readonly timeoutMs?: number;
  /** Retries of a transient failure, spent only before the first token. Default 2. */
  readonly maxRetries?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;
/** Anthropic requires max_tokens on every request. */
const DEFAULT_MAX_OUTPUT_TOKENS = 2048;

/**
 * A ChatModel on `@anthropic-ai/sdk` (Messages API). The installed SDK speaks API version 2026-10-21,
 * which rejects `temperature` (any value), so a request's temperature is not sent.
 */
export function createAnthropicChatModel(options: AnthropicChatModelOptions): ChatModel {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Anthropic({
    apiKey: options.apiKey,
    // Explicit so that ANTHROPIC_BASE_URL in the operator's environment cannot redirect a tenant's key.
    baseURL: options.baseURL ?? 'https://api.anthropic.com',
    // Retries are ours, before the first token only: the SDK's would also sit out long 429 waits.
    maxRetries: 0,
    // Only a backstop: the idle timeout in streamWithRetries fires first.
    timeout: timeoutMs + 5_000,
  });
  const fail = (error: unknown) => anthropicError(error, options.apiKey);
  const policy = (req: ChatRequest): ChatAttemptPolicy => ({
    providerLabel: 'Anthropic',
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    idleTimeoutMs: timeoutMs,
    signal: req.signal,
  });

  const params = (req: ChatRequest): MessageCreateParamsBase => ({
    model: options.model,
    max_tokens: req.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    messages: req.messages.map((m): MessageParam => ({ role: m.role, content: m.content })),
    ...(req.system ? { system: req.system } : {}),
  });

  async function* streamOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const stream = await client.messages
      .create({ ...params(req), stream: true }, { signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    let input = { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    let outputTokens = 0;
    let stopped = false;
    try {
      for await (const event of stream) {
        switch (event.type) {
          case 'message_start':
            input = { ...input, ...withoutNulls(event.message.usage) };
            outputTokens = event.message.usage.output_tokens;
            break;
          case 'content_block_delta':
            // Only text reaches the reader; thinking and tool deltas are billed but not shown.
            if (event.delta.type === 'text_delta' && event.delta.text) {
              yield { type: 'delta', text: event.delta.text };
            }
            break;
          case 'message_delta':
            // Cumulative counts; the input ones are set here only when they changed (e.g. server tools).
            input = { ...input, ...withoutNulls(event.usage) };
            outputTokens = event.usage.output_tokens;
            break;
          case 'message_stop':
            stopped = true;
            break;
        }
      }
    } catch (error) {
      throw error instanceof APIError ? fail(error) : streamEndedUnexpectedly(error);
    }
    // No message_stop: the connection closed early (or our signal aborted it, which the policy reports).
    if (!stopped) throw streamEndedUnexpectedly();
    yield { type: 'usage', inputTokens: totalInput(input), outputTokens };
  }

  async function* completeOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const message = await client.messages
      .create({ ...params(req), stream: false }, { signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    yield { type: 'delta', text };
    yield {
      type: 'usage',
      inputTokens: totalInput(message.usage),
      outputTokens: message.usage.output_tokens,
    };
  }

  return {
    provider: 'anthropic',
    model: options.model,
    stream: (req) => streamWithRetries(policy(req), (signal) => streamOnce(req, signal)),
    complete: (req) =>
      collectCompletion(streamWithRetries(policy(req), (signal) => completeOnce(req, signal))),
  };
}

type InputUsage = Pick<Usage, 'input_tokens' | 'cache_creation_input_tokens' | 'cache_read_input_tokens'>;

/** Prompt-cache reads and writes are input too; Anthropic reports them apart from `input_tokens`. */
function totalInput(usage: InputUsage): number {
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/** The input counts a usage object actually carries (null or absent means "unchanged"). */
function withoutNulls(usage: {
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}): Partial<Record<keyof InputUsage, number>> {
  const counts: Partial<Record<keyof InputUsage, number>> = {};
  if (usage.input_tokens != null) counts.input_tokens = usage.input_tokens;
  if (usage.cache_creation_input_tokens != null)
    counts.cache_creation_input_tokens = usage.cache_creation_input_tokens;
  if (usage.cache_read_input_tokens != null) counts.cache_read_input_tokens = usage.cache_read_input_tokens;
  return counts;
}

function streamEndedUnexpectedly(cause?: unknown): ProviderError {
  return new ProviderError("The provider's stream ended unexpectedly.", {
    status: 502,
    ...(cause === undefined ? {} : { cause }),
  });
}
