import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import { ProviderError } from '#shared/domain/errors.ts';
import { redactKey, retryAfterSecondsOf } from '../provider-errors.ts';

/** Anthropic keys (`sk-ant-…`) and other key-like tokens a message might quote. */
const ANTHROPIC_KEY_SHAPE = /\b(?:sk-ant|sk|key)[-_][\w*-]{6,}/g;

/**
 * Turns an `@anthropic-ai/sdk` error into a ProviderError a tenant admin can act on. Anthropic's
 * messages do not echo keys, but they are still only quoted after redaction, and the SDK error is kept
 * as `cause` for the logs except for auth failures.
 */
/**
 * `quote: false` for a server the tenant chose (a bot's own base_url): its error text is never passed on,
 * so the server cannot be used to read anything back through our errors.
 */
export function anthropicError(error: unknown, apiKey: string, quote = true): unknown {
  if (error instanceof ProviderError || !(error instanceof APIError)) return error;
  const details = {
    provider: 'anthropic',
    upstreamStatus: error.status,
    upstreamType: error.type ?? undefined,
  };
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError('Anthropic did not respond in time.', { status: 502, cause: error, details });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError('Could not reach Anthropic (connection failed).', {
      status: 502,
      cause: error,
      details,
    });
  }
  const status = error.status;
  if (status === 401 || status === 403) {
    return new ProviderError(`The bot's Anthropic API key was rejected by the provider (${status}).`, {
      status: 400,
      details,
    });
  }
  if (status === 402 || error.type === 'billing_error') {
    // Billing, not throughput: waiting will not help, the tenant has to fix the account behind the key.
    return new ProviderError(`The bot's Anthropic account cannot be billed (${status ?? 'billing_error'}).`, {
      status: 400,
      details,
    });
  }
  if (status === 429) {
    const retryAfterSeconds = retryAfterSecondsOf(error.headers);
    return new ProviderError("Anthropic rate limit reached for the bot's API key (429).", {
      status: 429,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      cause: error,
      details,
    });
  }
  if (status === 404) {
    return new ProviderError("Anthropic answered 404 Not Found: check the bot's model name.", {
      status: 400,
      cause: error,
      details,
    });
  }
  // 529 is Anthropic's "overloaded"; an `overloaded_error` event can also arrive mid-stream (no status).
  if (
    (status !== undefined && status >= 500) ||
    error.type === 'overloaded_error' ||
    error.type === 'api_error'
  ) {
    return new ProviderError(`Anthropic is unavailable (${status ?? error.type}); try again later.`, {
      status: 502,
      cause: error,
      details,
    });
  }
  const quoted = quote ? redactKey(error.apiMessage ?? '', apiKey, ANTHROPIC_KEY_SHAPE) : '';
  const what = status === undefined ? 'reported an error in the stream' : `rejected the request (${status})`;
  return new ProviderError(`Anthropic ${what}${quoted ? `: ${quoted}` : '.'}`, {
    status: 502,
    cause: error,
    details,
  });
}
