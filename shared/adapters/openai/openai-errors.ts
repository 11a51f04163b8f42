import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ProviderError } from '#shared/domain/errors.ts';
import { redactKey, retryAfterSecondsOf } from '../provider-errors.ts';

/** OpenAI keys (`sk-…`, `sess-…`) and other key-like tokens a message might quote. */
const OPENAI_KEY_SHAPE = /\b(?:sk|key|sess)[-_][\w*-]{6,}/g;

export type OpenAiProvider = 'openai' | 'openai-compatible';

/** The provider as a sentence's subject ('OpenAI', 'The OpenAI-compatible server'). */
export const openAiLabel = (provider: OpenAiProvider): string =>
  provider === 'openai' ? 'OpenAI' : 'The OpenAI-compatible server';

const objectLabel = (provider: OpenAiProvider): string =>
  provider === 'openai' ? 'OpenAI' : 'the OpenAI-compatible server';

const credentialLabel = (provider: OpenAiProvider): string =>
  provider === 'openai' ? 'OpenAI' : 'OpenAI-compatible';

/**
 * Turns an `openai` SDK error into a ProviderError a tenant admin can act on. OpenAI's own 401 message
 * echoes part of the key, so provider text is only ever quoted after redaction, and never for auth
 * failures; the SDK error is kept as `cause` for the logs except then, for the same reason.
 */
export function openAiError(
  error: unknown,
  provider: OpenAiProvider,
  apiKey: string,
  /** false for a server the tenant chose (a bot's own base_url): its error text is never passed on. */
  quote = true,
): unknown {
  if (error instanceof ProviderError || !(error instanceof APIError)) return error;
  const label = openAiLabel(provider);
  const details = { provider, upstreamStatus: error.status, upstreamCode: error.code ?? undefined };
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError(`${label} did not respond in time.`, { status: 502, cause: error, details });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError(`Could not reach ${objectLabel(provider)} (connection failed).`, {
      status: 502,
      cause: error,
      details,
    });
  }
  const status = error.status;
  if (status === 401 || status === 403) {
    return new ProviderError(
      `The bot's ${credentialLabel(provider)} API key was rejected by the provider (${status}).`,
      { status: 400, details },
    );
  }
  if (status === 429 && error.code === 'insufficient_quota') {
    // Billing, not throughput: waiting will not help, the tenant has to fix the account behind the key.
    return new ProviderError(
      `The bot's ${credentialLabel(provider)} account has no quota left (429 insufficient_quota).`,
      { status: 400, details },
    );
  }
  if (status === 429) {
    const retryAfterSeconds = retryAfterSecondsOf(error.headers, 'retry-after-ms');
    return new ProviderError(`${label} rate limit reached for the bot's API key (429).`, {
      status: 429,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      cause: error,
      details,
    });
  }
  if (status === 404) {
    return new ProviderError(`${label} answered 404 Not Found: check the bot's model name and base URL.`, {
      status: 400,
      cause: error,
      details,
    });
  }
  if (status !== undefined && status >= 500) {
    return new ProviderError(`${label} is unavailable (${status}); try again later.`, {
      status: 502,
      cause: error,
      details,
    });
  }
  const quoted = quote ? redactKey(providerMessage(error), apiKey, OPENAI_KEY_SHAPE) : '';
  const what = status === undefined ? 'reported an error in the stream' : `rejected the request (${status})`;
  return new ProviderError(`${label} ${what}${quoted ? `: ${quoted}` : '.'}`, {
    status: 502,
    cause: error,
    details,
  });
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : '';
}
