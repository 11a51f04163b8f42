import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ProviderError } from '#shared/domain/errors.ts';

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
export function openAiError(error: unknown, provider: OpenAiProvider, apiKey: string): unknown {
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
    const retryAfterSeconds = retryAfterSecondsOf(error.headers);
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
  const quoted = redact(providerMessage(error), apiKey);
  const what = status === undefined ? 'reported an error in the stream' : `rejected the request (${status})`;
  return new ProviderError(`${label} ${what}${quoted ? `: ${quoted}` : '.'}`, {
    status: 502,
    cause: error,
    details,
  });
}

/** Seconds from `retry-after-ms` (OpenAI's finer hint) or `retry-after` (seconds or an HTTP date). */
export function retryAfterSecondsOf(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : '';
}

/** Strips the key and anything shaped like one, and keeps the message short enough for a problem detail. */
function redact(message: string, apiKey: string): string {
  let text = apiKey.length >= 4 ? message.split(apiKey).join('[redacted]') : message;
  text = text.replace(/\b(?:sk|key|sess)[-_][\w*-]{6,}/g, '[redacted]');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
