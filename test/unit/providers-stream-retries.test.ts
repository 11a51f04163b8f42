import { describe, expect, it } from 'vitest';
import { ProviderError } from '#shared/domain/errors.ts';
import { collectCompletion, streamWithRetries } from '#shared/llm/stream-with-retries.ts';
import type { ChatEvent } from '#shared/ports/chat-model.ts';

const policy = { providerLabel: 'TestProvider', maxRetries: 2, idleTimeoutMs: 1000 };
const usage: ChatEvent = { type: 'usage', inputTokens: 3, outputTokens: 2 };

async function drain(events: AsyncIterable<ChatEvent>) {
  const seen: ChatEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
    return { seen, error: undefined };
  } catch (error) {
    return { seen, error };
  }
}

describe('streamWithRetries', () => {
  it('when a 429 asks for a short wait then it is waited out and retried', async () => {
    let attempts = 0;
    const result = await collectCompletion(
      streamWithRetries(policy, async function* () {
        attempts++;
        if (attempts === 1) throw new ProviderError('slow down', { status: 429, retryAfterSeconds: 0 });
        yield { type: 'delta', text: 'ok' };
        yield usage;
      }),
    );
    expect(result).toEqual({ text: 'ok', inputTokens: 3, outputTokens: 2 });
    expect(attempts).toBe(2);
  });

  it('when 429s asking for short waits keep coming then they are waited out for one second in all, then surfaced', async () => {
    let attempts = 0;
    const started = performance.now();
    const { error } = await drain(
      streamWithRetries({ ...policy, maxRetries: 5 }, async function* () {
        attempts++;
        yield* [];
        throw new ProviderError('slow down', { status: 429, retryAfterSeconds: 0.4 });
      }),
    );
    expect(error).toMatchObject({ status: 429 });
    // 0.4 + 0.4 s waited; a third wait would pass the one-second bound.
    expect(attempts).toBe(3);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('when a 429 asks for a long wait then it is surfaced at once', async () => {
    let attempts = 0;
    const { error } = await drain(
      streamWithRetries(policy, async function* () {
        attempts++;
        yield* [];
        throw new ProviderError('slow down', { status: 429, retryAfterSeconds: 30 });
      }),
    );
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(attempts).toBe(1);
  });

  it('when a 502 follows the first delta then it is thrown after that delta and never retried', async () => {
    let attempts = 0;
    const { seen, error } = await drain(
      streamWithRetries(policy, async function* () {
        attempts++;
        yield { type: 'delta', text: 'Hel' };
        throw new ProviderError('gone', { status: 502 });
      }),
    );
    expect(seen).toEqual([{ type: 'delta', text: 'Hel' }]);
    expect(error).toMatchObject({ status: 502, message: 'gone' });
    expect(attempts).toBe(1);
  });

  it('when an error is not a ProviderError then it is rethrown untouched and not retried', async () => {
    let attempts = 0;
    const bug = new TypeError('a bug');
    const { error } = await drain(
      streamWithRetries(policy, async function* () {
        attempts++;
        yield* [];
        throw bug;
      }),
    );
    expect(error).toBe(bug);
    expect(attempts).toBe(1);
  });

  it('when the consumer is slow then the idle timeout does not count its time', async () => {
    const events = streamWithRetries({ ...policy, idleTimeoutMs: 50 }, async function* () {
      yield { type: 'delta', text: 'a' };
      yield { type: 'delta', text: 'b' };
      yield usage;
    });
    const seen: ChatEvent[] = [];
    for await (const event of events) {
      seen.push(event);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expect(seen).toHaveLength(3);
  });

  it('when the consumer stops early then the attempt is aborted', async () => {
    let attemptSignal: AbortSignal | undefined;
    const events = streamWithRetries(policy, async function* (signal) {
      attemptSignal = signal;
      yield { type: 'delta', text: 'a' };
      yield { type: 'delta', text: 'b' };
    });
    for await (const _event of events) break;
    expect(attemptSignal?.aborted).toBe(true);
  });

  it('when the caller aborts during the backoff then the wait ends with the abort reason', async () => {
    const controller = new AbortController();
    const events = streamWithRetries({ ...policy, signal: controller.signal }, async function* () {
      yield* [];
      setTimeout(() => controller.abort(new Error('stop')), 10);
      throw new ProviderError('down', { status: 502 });
    });
    await expect(drain(events)).resolves.toMatchObject({ error: new Error('stop') });
  });
});
