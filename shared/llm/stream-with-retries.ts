import { ProviderError } from '../domain/errors.ts';
import type { ChatCompletion, ChatEvent } from '../ports/chat-model.ts';

/**
 * How an adapter runs one `stream()`/`complete()` call under the ChatModel contract (ports/chat-model.ts).
 * The rule it enforces (retry only before the first delta) is the port's, not a vendor's.
 */
export interface ChatAttemptPolicy {
  /** The provider's display name for messages, e.g. 'OpenAI'. */
  readonly providerLabel: string;
  /** Attempts after the first; spent only before the first delta. */
  readonly maxRetries: number;
  /**
   * Longest silence allowed before the first event and between two events. Time the consumer spends
   * with an event does not count: a slow SSE client must not look like a slow provider.
   */
  readonly idleTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A 429 asking for at most this long is waited out; a longer one is the caller's to handle. The same bound
 * holds for all such waits of one call together: the HTTP layer can still answer a plain 429 with
 * Retry-After only while it holds the response back for the first event (1.5 s by default), and a provider
 * that keeps throttling is better reported that way than as an error inside a stream already begun.
 */
const MAX_RATE_LIMIT_WAIT_SECONDS = 1;

/**
 * Runs `attempt` (one provider request, its errors already mapped to ProviderError) and retries it on a
 * retryable failure (a 429 only when it asks for a short wait) as long as no delta has been yielded.
 * Each attempt gets its own AbortSignal, which fires when the caller aborts, the idle timeout elapses or
 * the consumer stops iterating.
 */
export async function* streamWithRetries(
  policy: ChatAttemptPolicy,
  attempt: (signal: AbortSignal) => AsyncIterable<ChatEvent>,
): AsyncGenerator<ChatEvent> {
  const { signal } = policy;
  let rateLimitWaitMs = 0;
  for (let retries = 0; ; retries++) {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const armTimer = () => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, policy.idleTimeoutMs);
    };
    let deltaYielded = false;
    try {
      armTimer();
      for await (const event of attempt(controller.signal)) {
        clearTimeout(timer);
        deltaYielded ||= event.type === 'delta';
        yield event;
        armTimer();
      }
      // SDK streams end quietly when their signal aborts, so an abort can look like a normal end.
      signal?.throwIfAborted();
      if (timedOut) throw idleTimeoutError(policy);
      return;
    } catch (error) {
      signal?.throwIfAborted();
      if (timedOut) throw idleTimeoutError(policy);
      const waitMs = error instanceof ProviderError ? retryDelayMs(error, retries) : undefined;
      if (deltaYielded || retries >= policy.maxRetries || waitMs === undefined) throw error;
      if (error instanceof ProviderError && error.status === 429) {
        rateLimitWaitMs += waitMs;
        if (rateLimitWaitMs > MAX_RATE_LIMIT_WAIT_SECONDS * 1000) throw error;
      }
      await sleep(waitMs, signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forwardAbort);
      controller.abort();
    }
  }
}

/** Drains a stream of ChatEvents into the `complete()` result. */
export async function collectCompletion(events: AsyncIterable<ChatEvent>): Promise<ChatCompletion> {
  let text = '';
  let inputTokens = 0;
  let outputTokens = 0;
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'usage') ({ inputTokens, outputTokens } = event);
  }
  return { text, inputTokens, outputTokens };
}

function retryDelayMs(error: ProviderError, retries: number): number | undefined {
  if (!error.retryable) return undefined;
  if (error.status === 429) {
    const wait = error.retryAfterSeconds;
    return wait !== undefined && wait <= MAX_RATE_LIMIT_WAIT_SECONDS ? wait * 1000 : undefined;
  }
  // Exponential backoff with jitter, capped low: a person is waiting for the first word.
  return Math.min(250 * 2 ** retries, 2000) * (0.75 + Math.random() * 0.25);
}

function idleTimeoutError(policy: ChatAttemptPolicy): ProviderError {
  const seconds = Math.round(policy.idleTimeoutMs / 100) / 10;
  return new ProviderError(`${policy.providerLabel} did not respond within ${seconds} s.`, { status: 502 });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', cancel);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const cancel = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', cancel, { once: true });
  });
}
