import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { ProviderError } from '#shared/domain/errors.ts';
import {
  type ChatAttemptPolicy,
  collectCompletion,
  streamWithRetries,
} from '#shared/llm/stream-with-retries.ts';
import type { ChatEvent, ChatModel, ChatRequest } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { type OpenAiProvider, openAiError, openAiLabel } from './openai-errors.ts';

export interface OpenAiChatModelOptions {
  readonly apiKey: string;
  readonly model: string;
  /** Default `https://api.openai.com/v1`; for an OpenAI-compatible server, its base URL including `/v1`. */
  readonly baseURL?: string;
  readonly organization?: string;
  /** Longest wait for the first event and between two streamed events. Default 60 s. */
  readonly timeoutMs?: number;
  /** Retries of a transient failure, spent only before the first token. Default 2. */
  readonly maxRetries?: number;
  readonly provider?: OpenAiProvider;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

/** A ChatModel on the official `openai` SDK: OpenAI itself or any server speaking its Chat Completions API. */
export function createOpenAiChatModel(options: OpenAiChatModelOptions): ChatModel {
  const provider = options.provider ?? 'openai';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new OpenAI({
    apiKey: options.apiKey,
    // Explicit values so that nothing comes from the operator's OPENAI_* environment: the key, base URL
    // and organization are the tenant's.
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    organization: options.organization ?? null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    // Retries are ours, before the first token only: the SDK's would also sit out long 429 waits.
    maxRetries: 0,
    // Only a backstop: the idle timeout in streamWithRetries fires first.
    timeout: timeoutMs + 5_000,
  });
  const fail = (error: unknown) => openAiError(error, provider, options.apiKey);
  const policy = (req: ChatRequest): ChatAttemptPolicy => ({
    providerLabel: openAiLabel(provider),
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    idleTimeoutMs: timeoutMs,
    signal: req.signal,
  });

  const params = (req: ChatRequest): ChatCompletionCreateParamsBase => ({
    model: options.model,
    messages: toOpenAiMessages(req),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    // OpenAI deprecated max_tokens (its reasoning models reject it); compatible servers mostly know only it.
    ...(req.maxOutputTokens === undefined
      ? {}
      : provider === 'openai'
        ? { max_completion_tokens: req.maxOutputTokens }
        : { max_tokens: req.maxOutputTokens }),
  });

  async function* streamOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const stream = await client.chat.completions
      .create({ ...params(req), stream: true, stream_options: { include_usage: true } }, { signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    let text = '';
    let finished = false;
    let usage: CompletionUsage | undefined;
    try {
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        // Azure and some compatible servers send chunks without choices (filter results, usage).
        for (const choice of chunk.choices ?? []) {
          if (choice.index !== 0) continue;
          const delta = choice.delta?.content;
          if (delta) {
            text += delta;
            yield { type: 'delta', text: delta };
          }
          if (choice.finish_reason) finished = true;
        }
      }
    } catch (error) {
      throw error instanceof APIError ? fail(error) : streamEndedUnexpectedly(error);
    }
    // No finish_reason: the connection closed early (or our signal aborted it, which the policy reports).
    if (!finished) throw streamEndedUnexpectedly();
    yield usageEvent(usage, req, text);
  }

  async function* completeOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const response = await client.chat.completions
      .create({ ...params(req), stream: false }, { signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    const text = response.choices[0]?.message.content ?? '';
    yield { type: 'delta', text };
    yield usageEvent(response.usage, req, text);
  }

  return {
    provider,
    model: options.model,
    stream: (req) => streamWithRetries(policy(req), (signal) => streamOnce(req, signal)),
    complete: (req) =>
      collectCompletion(streamWithRetries(policy(req), (signal) => completeOnce(req, signal))),
  };
}

function toOpenAiMessages(req: ChatRequest): ChatCompletionMessageParam[] {
  const turns: ChatCompletionMessageParam[] = req.messages.map((m) => ({ role: m.role, content: m.content }));
  return req.system ? [{ role: 'system', content: req.system }, ...turns] : turns;
}

function streamEndedUnexpectedly(cause?: unknown): ProviderError {
  return new ProviderError("The provider's stream ended unexpectedly.", {
    status: 502,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The provider's counts when it sent them; otherwise (some compatible servers) our own estimate. */
function usageEvent(usage: CompletionUsage | null | undefined, req: ChatRequest, text: string): ChatEvent {
  if (usage) {
    return { type: 'usage', inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
  }
  // OpenAI's chat format costs about 4 tokens per message and 3 to prime the reply.
  const messages = [req.system, ...req.messages.map((m) => m.content)].filter(Boolean);
  const inputTokens = messages.reduce((sum, content) => sum + countTokens(content) + 4, 3);
  return { type: 'usage', inputTokens, outputTokens: countTokens(text) };
}
