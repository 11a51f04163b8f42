import { setTimeout as delay } from 'node:timers/promises';
import { ProviderError } from '../../domain/errors.ts';
import type { Embedder } from '../../ports/embedder.ts';

/** Waits `ms` milliseconds, or rejects when `signal` aborts. Injected by tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface EmbedInBatchesOptions {
  readonly signal?: AbortSignal;
  /** Further attempts per batch after the first (so at most maxRetries + 1 calls per batch). */
  readonly maxRetries?: number;
  /** First backoff delay; it doubles each retry, with jitter. */
  readonly baseDelayMs?: number;
  /** No single wait is longer; a Retry-After beyond it fails the batch instead of waiting. */
  readonly maxDelayMs?: number;
  /** Called after each batch, in order. */
  readonly onBatch?: (progress: { readonly done: number; readonly total: number }) => void;
  readonly sleep?: Sleep;
  /** Source of jitter in [0, 1). */
  readonly random?: () => number;
}

export interface EmbedInBatchesResult {
  /** One vector per text, in the order of the texts. */
  readonly vectors: number[][];
  readonly inputTokens: number;
  /** Calls made to the embedder, retries included. */
  readonly calls: number;
}

/** Providers cap a request well above this; smaller requests fail and retry cheaply. */
const largestBatch = 128;

const defaultSleep: Sleep = (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined);

const retryableNetworkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether another attempt may succeed: a provider error that says so (a rate limit, an outage), or the
 * network failing or timing out on the way. A bad key fails the same way every time.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ProviderError) return error.retryable;
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'ConnectTimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && retryableNetworkCodes.has(code)) return true;
  // fetch reports network failures as TypeError("fetch failed") with the system error as cause.
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  return error.cause !== undefined && error.cause !== error && isRetryable(error.cause);
}

function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof ProviderError) || error.retryAfterSeconds === undefined) return undefined;
  return Math.max(0, error.retryAfterSeconds * 1000);
}

/**
 * Embeds texts in batches of at most min(128, embedder.maxBatchSize), one batch at a time, so
 * n texts take exactly ceil(n / batch) calls when nothing fails. A retryable failure is tried
 * again after exponential backoff with jitter (base·2^attempt, scaled by 0.5–1), or after the
 * provider's Retry-After when it gave one; any other error is thrown at once.
 */
export async function embedInBatches(
  embedder: Embedder,
  texts: readonly string[],
  options: EmbedInBatchesOptions = {},
): Promise<EmbedInBatchesResult> {
  const { signal, maxRetries = 5, baseDelayMs = 500, maxDelayMs = 60_000 } = options;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const batchSize = Math.max(1, Math.min(largestBatch, embedder.maxBatchSize));
  const vectors: number[][] = [];
  let inputTokens = 0;
  let calls = 0;

  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        calls++;
        const result = await embedder.embed(batch, signal ? { signal } : undefined);
        if (result.vectors.length !== batch.length) {
          throw new ProviderError(
            `The embedding provider returned ${result.vectors.length} vectors for ${batch.length} texts.`,
            { status: 502 },
          );
        }
        vectors.push(...result.vectors);
        inputTokens += result.inputTokens;
        break;
      } catch (error) {
        if (signal?.aborted || attempt >= maxRetries || !isRetryable(error)) throw error;
        const askedFor = retryAfterMs(error);
        if (askedFor !== undefined && askedFor > maxDelayMs) throw error;
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt * (0.5 + random() / 2));
        await sleep(askedFor ?? backoff, signal);
      }
    }
    options.onBatch?.({ done: Math.min(texts.length, start + batchSize), total: texts.length });
  }
  return { vectors, inputTokens, calls };
}
