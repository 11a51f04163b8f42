import { describe, expect, it } from 'vitest';
import { ProviderError } from '#shared/domain/errors.ts';
import type { Embedder, EmbeddingResult } from '#shared/ports/embedder.ts';
import { embedInBatches, isRetryable } from '#shared/rag/embedding/index.ts';

/** Embeds each text as [its index in the input list]; fails the first calls as scripted. */
function scriptedEmbedder(
  failures: unknown[] = [],
  maxBatchSize = 2048,
): Embedder & { batches: string[][]; calls: number } {
  const batches: string[][] = [];
  const embedder = {
    space: { provider: 'test', model: 'index', dimensions: 1 },
    maxBatchSize,
    batches,
    calls: 0,
    async embed(texts: readonly string[]): Promise<EmbeddingResult> {
      embedder.calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      batches.push([...texts]);
      return { vectors: texts.map((t) => [Number(t.slice(5))]), inputTokens: texts.length * 2 };
    },
  };
  return embedder;
}

const texts = (n: number) => Array.from({ length: n }, (_, i) => `text ${i}`);

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('embedInBatches', () => {
  it('when embedding 1000 texts then it makes exactly 8 calls of at most 128, in order', async () => {
    const embedder = scriptedEmbedder();
    const progress: number[] = [];
    const result = await embedInBatches(embedder, texts(1000), {
      onBatch: ({ done }) => progress.push(done),
    });
    expect(result.calls).toBe(8);
    expect(embedder.batches.map((b) => b.length)).toEqual([128, 128, 128, 128, 128, 128, 128, 104]);
    expect(result.vectors.map((v) => v[0])).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(result.inputTokens).toBe(2000);
    expect(progress).toEqual([128, 256, 384, 512, 640, 768, 896, 1000]);
  });

  it('when the embedder takes smaller batches then batches follow its limit', async () => {
    const embedder = scriptedEmbedder([], 50);
    const result = await embedInBatches(embedder, texts(120));
    expect(result.calls).toBe(3);
    expect(embedder.batches.map((b) => b.length)).toEqual([50, 50, 20]);
  });

  it('when the provider asks to retry after some seconds then it waits that long and retries', async () => {
    const embedder = scriptedEmbedder([
      new ProviderError('slow down', { status: 429, retryAfterSeconds: 7 }),
    ]);
    const { waits, sleep } = recordingSleep();
    const result = await embedInBatches(embedder, texts(200), { sleep });
    expect(waits).toEqual([7000]);
    expect(result.calls).toBe(3);
    expect(result.vectors.map((v) => v[0])).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('when server errors repeat then it backs off exponentially with jitter', async () => {
    const failures = [1, 2, 3].map(() => new ProviderError('down', { status: 503 }));
    const embedder = scriptedEmbedder(failures);
    const { waits, sleep } = recordingSleep();
    await embedInBatches(embedder, texts(3), { sleep, baseDelayMs: 100, random: () => 1 });
    expect(waits).toEqual([100, 200, 400]);
    const jittered = recordingSleep();
    await embedInBatches(scriptedEmbedder([new ProviderError('down', { status: 500 })]), texts(3), {
      sleep: jittered.sleep,
      baseDelayMs: 100,
      random: () => 0,
    });
    expect(jittered.waits).toEqual([50]);
  });

  it('when the network fails then it retries', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const fetchFailed = new TypeError('fetch failed', { cause: reset });
    const timeout = new DOMException('The operation timed out', 'TimeoutError');
    const embedder = scriptedEmbedder([reset, fetchFailed, timeout]);
    const { sleep } = recordingSleep();
    const result = await embedInBatches(embedder, texts(5), { sleep });
    expect(result.calls).toBe(4);
  });

  it('when the error is not retryable then it is thrown at once', async () => {
    for (const status of [400, 401, 403, 404]) {
      const error = new ProviderError('bad key', { status });
      const embedder = scriptedEmbedder([error]);
      const { waits, sleep } = recordingSleep();
      await expect(embedInBatches(embedder, texts(10), { sleep })).rejects.toBe(error);
      expect(embedder.calls).toBe(1);
      expect(waits).toEqual([]);
    }
  });

  it('when retries run out then the last error is thrown', async () => {
    const failures = Array.from({ length: 10 }, () => new ProviderError('down', { status: 502 }));
    const embedder = scriptedEmbedder(failures);
    const { sleep } = recordingSleep();
    await expect(embedInBatches(embedder, texts(10), { sleep, maxRetries: 3 })).rejects.toBeInstanceOf(
      ProviderError,
    );
    expect(embedder.calls).toBe(4);
  });

  it('when Retry-After is longer than the longest wait then it fails instead of waiting', async () => {
    const error = new ProviderError('come back tomorrow', { status: 429, retryAfterSeconds: 86_400 });
    const { waits, sleep } = recordingSleep();
    await expect(embedInBatches(scriptedEmbedder([error]), texts(1), { sleep })).rejects.toBe(error);
    expect(waits).toEqual([]);
  });

  it('when the signal is aborted then no further batch starts', async () => {
    const controller = new AbortController();
    const embedder = scriptedEmbedder();
    const run = embedInBatches(embedder, texts(500), {
      signal: controller.signal,
      onBatch: () => controller.abort(),
    });
    await expect(run).rejects.toThrow();
    expect(embedder.calls).toBe(1);
  });

  it('when the provider returns the wrong number of vectors then it is a provider error', async () => {
    const embedder: Embedder = {
      space: { provider: 'test', model: 'short', dimensions: 1 },
      maxBatchSize: 128,
      embed: async () => ({ vectors: [[1]], inputTokens: 0 }),
    };
    const { sleep } = recordingSleep();
    await expect(embedInBatches(embedder, texts(3), { sleep, maxRetries: 0 })).rejects.toBeInstanceOf(
      ProviderError,
    );
  });

  it('when there is nothing to embed then no call is made', async () => {
    const embedder = scriptedEmbedder();
    expect(await embedInBatches(embedder, [])).toEqual({ vectors: [], inputTokens: 0, calls: 0 });
  });

  it('when classifying errors then only rate limits, server and network failures are retryable', () => {
    expect(isRetryable(new ProviderError('x', { status: 429 }))).toBe(true);
    expect(isRetryable(new ProviderError('x', { status: 500 }))).toBe(true);
    expect(isRetryable(new ProviderError('x'))).toBe(true);
    expect(isRetryable(new ProviderError('x', { status: 400 }))).toBe(false);
    expect(isRetryable(new Error('programming error'))).toBe(false);
    expect(isRetryable('a string')).toBe(false);
  });
});
