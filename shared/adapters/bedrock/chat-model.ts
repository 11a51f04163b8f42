import {
  type BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
  type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { ProviderError } from '#shared/domain/errors.ts';
import {
  type ChatAttemptPolicy,
  collectCompletion,
  streamWithRetries,
} from '#shared/llm/stream-with-retries.ts';
import type { ChatEvent, ChatModel, ChatRequest } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { bedrockError } from './bedrock-errors.ts';

export interface BedrockChatModelOptions {
  readonly client: BedrockRuntimeClient;
  /** A Converse-capable model id or inference profile id (`us.anthropic.claude-…`), or its ARN. */
  readonly model: string;
  /** The client's region, for messages. */
  readonly region: string;
  /** Longest wait for the first event and between two streamed events. Default 60 s. */
  readonly timeoutMs?: number;
  /** Retries of a transient failure, spent only before the first token. Default 2. */
  readonly maxRetries?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

/**
 * A ChatModel on Amazon Bedrock's Converse / ConverseStream API, which speaks one message format for
 * every model family on Bedrock (Anthropic Claude, Amazon Nova, Meta Llama, Mistral, …). It signs with
 * the deployment's IAM identity: a bot has no key of its own.
 */
export function createBedrockChatModel(options: BedrockChatModelOptions): ChatModel {
  const target = { model: options.model, region: options.region };
  const fail = (error: unknown) => bedrockError(error, target);
  const policy = (req: ChatRequest): ChatAttemptPolicy => ({
    providerLabel: 'Amazon Bedrock',
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    idleTimeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: req.signal,
  });

  async function* streamOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const response = await options.client
      .send(new ConverseStreamCommand(converseInput(options.model, req)), { abortSignal: signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    let text = '';
    let stopped = false;
    let usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined;
    try {
      for await (const event of response.stream ?? []) {
        const delta = event.contentBlockDelta?.delta?.text;
        if (delta) {
          text += delta;
          yield { type: 'delta', text: delta };
        }
        if (event.messageStop) stopped = true;
        if (event.metadata?.usage) usage = event.metadata.usage;
      }
    } catch (error) {
      // Exception frames (throttlingException, modelStreamErrorException, …) arrive as modelled errors.
      const mapped = fail(error);
      throw mapped instanceof ProviderError ? mapped : streamEndedUnexpectedly(error);
    }
    // No messageStop: the connection closed early (or our signal aborted it, which the policy reports).
    if (!stopped) throw streamEndedUnexpectedly();
    yield usageEvent(usage, req, text);
  }

  async function* completeOnce(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const response = await options.client
      .send(new ConverseCommand(converseInput(options.model, req)), { abortSignal: signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    const text = (response.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
    yield { type: 'delta', text };
    yield usageEvent(response.usage, req, text);
  }

  return {
    provider: 'bedrock',
    model: options.model,
    stream: (req) => streamWithRetries(policy(req), (signal) => streamOnce(req, signal)),
    complete: (req) =>
      collectCompletion(streamWithRetries(policy(req), (signal) => completeOnce(req, signal))),
  };
}

function converseInput(modelId: string, req: ChatRequest): ConverseCommandInput {
  const inference = {
    // The models on Bedrock take temperatures from 0 to 1; a bot set up for OpenAI's 0–2 is capped.
    ...(req.temperature === undefined ? {} : { temperature: Math.min(1, Math.max(0, req.temperature)) }),
    ...(req.maxOutputTokens === undefined ? {} : { maxTokens: req.maxOutputTokens }),
  };
  return {
    modelId,
    messages: toConverseMessages(req),
    ...(req.system ? { system: [{ text: req.system }] } : {}),
    ...(Object.keys(inference).length ? { inferenceConfig: inference } : {}),
  };
}

/**
 * Converse wants the conversation to start with a user turn and alternate: consecutive turns of one role
 * are joined, and a leading assistant turn is dropped.
 */
function toConverseMessages(req: ChatRequest): Message[] {
  const messages: Message[] = [];
  for (const turn of req.messages) {
    if (!turn.content) continue;
    const last = messages[messages.length - 1];
    if (last?.role === turn.role) {
      const block = last.content?.[0];
      if (block && 'text' in block) block.text = `${block.text}\n\n${turn.content}`;
    } else if (messages.length > 0 || turn.role === 'user') {
      messages.push({ role: turn.role, content: [{ text: turn.content }] });
    }
  }
  return messages;
}

function streamEndedUnexpectedly(cause?: unknown): ProviderError {
  return new ProviderError("The provider's stream ended unexpectedly.", {
    status: 502,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Bedrock's counts from the metadata event; our own estimate if a stream ended without one. */
function usageEvent(
  usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined,
  req: ChatRequest,
  text: string,
): ChatEvent {
  if (usage?.inputTokens !== undefined && usage.outputTokens !== undefined) {
    return { type: 'usage', inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
  }
  const prompt = [req.system, ...req.messages.map((m) => m.content)].join('\n');
  return { type: 'usage', inputTokens: countTokens(prompt), outputTokens: countTokens(text) };
}
