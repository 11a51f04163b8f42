/** Helpers both LLM provider adapters (openai, anthropic) use to turn SDK errors into ProviderErrors. */

/**
 * Seconds from `retry-after` (seconds or an HTTP date), or first from `msHeader` when the provider sends
 * a finer hint (OpenAI's `retry-after-ms`).
 */
export function retryAfterSecondsOf(headers: Headers | undefined, msHeader?: string): number | undefined {
  if (msHeader) {
    const ms = Number.parseFloat(headers?.get(msHeader) ?? '');
    if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  }
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * Strips the key and anything shaped like one (`keyShape`, the provider's own key formats), and keeps the
 * message short enough for a problem detail.
 */
export function redactKey(message: string, apiKey: string, keyShape: RegExp): string {
  let text = apiKey.length >= 4 ? message.split(apiKey).join('[redacted]') : message;
  text = text.replace(keyShape, '[redacted]');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
