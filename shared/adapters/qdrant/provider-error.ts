import { ProviderError, ServiceUnavailableError } from '../../domain/errors.ts';
import { isTransientFault } from '../transient-fault.ts';

interface HttpFailure {
  status?: unknown;
  data?: { status?: { error?: unknown } | string };
  retry_after?: unknown;
  message?: unknown;
  cause?: { code?: unknown; message?: unknown };
}

/**
 * Turns whatever the Qdrant client threw (an HTTP error with Qdrant's `{status: {error}}` body, a timeout,
 * a refused connection) into an error whose message says what failed: a ServiceUnavailableError (503) when
 * Qdrant is unreachable, slow or answering 5xx/429 (another try may succeed), else a ProviderError. The API key travels only in
 * a request header and none of these carry request headers, but it is scrubbed from the text anyway so a
 * future client version that echoes it cannot leak it.
 */
export function qdrantProviderError(
  operation: string,
  error: unknown,
  apiKey: string | undefined,
): ProviderError | ServiceUnavailableError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as HttpFailure;
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  const body = failure.data?.status;
  // fetch reports a refused connection, DNS failure or reset as TypeError('fetch failed') with the reason
  // in `cause`.
  const network =
    failure.message === 'fetch failed' ? (failure.cause?.code ?? failure.cause?.message) : undefined;
  const detail =
    typeof body === 'object' && typeof body?.error === 'string'
      ? body.error
      : network !== undefined
        ? `cannot reach the server (${String(network)})`
        : error instanceof Error
          ? error.message
          : String(error);
  let message = `Qdrant ${operation} failed${status ? ` (HTTP ${status})` : ''}: ${detail.slice(0, 300)}`;
  if (apiKey) message = message.replaceAll(apiKey, '[redacted]');
  const retryAfter = typeof failure.retry_after === 'number' ? failure.retry_after : undefined;
  const rateLimited = status === 429 || retryAfter !== undefined;
  if (rateLimited || isTransientFault(error)) {
    return new ServiceUnavailableError(
      `The vector store is unavailable right now (${message}); try again in a few seconds.`,
      { cause: error, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }) },
    );
  }
  return new ProviderError(message, { status: 502, cause: error });
}

/** Two processes creating the same collection: Qdrant answers 409 (older versions: 400 "already exists"). */
export function isAlreadyExists(error: unknown): boolean {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as HttpFailure;
  const body = failure.data?.status;
  const text = typeof body === 'object' && typeof body?.error === 'string' ? body.error : '';
  return failure.status === 409 || (failure.status === 400 && /already exists/i.test(text));
}
