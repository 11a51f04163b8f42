import { describe, expect, it } from 'vitest';
import { ProviderError } from '#shared/domain/errors.ts';
import type { Embedder, EmbeddingResult } from '#shared/ports/embedder.ts';
import { createEmbeddingGroup, embeddingGroupsByTenant } from '#shared/rag/embedding/index.ts';

/** Embeds each text (`<member>:<n>`) as [n] and bills 3 tokens per text; records every request. */
function recordingEmbedder(): Embedder & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    space: { provider: 'test', model: 'numbers', dimensions: 1 },
    maxBatchSize: 2048,
    batches,
    async embed(texts: readonly string[]): Promise<EmbeddingResult> {
      batches.push([...texts]);
      return { vectors: texts.map((t) => [Number(t.split(':')[1])]), inputTokens: texts.length * 3 };
    },
  };
}

const texts = (member: string, n: number) => Array.from({ length: n }, (_, i) => `${member}:${i}`);
const numbers = (n: number) => Array.from({ length: n }, (_, i) => [i]);

describe('createEmbeddingGroup', () => {
  it('when three sources of 100, 100 and 60 chunks embed together then 3 requests of ≤128 serve them all, in order', async () => {
    const embedder = recordingEmbedder();
    const group = createEmbeddingGroup(embedder, 3);
    const [a, b, c] = [group.member(), group.member(), group.member()];
    const results = await Promise.all([
      a.embed(texts('a', 100)),
      b.embed(texts('b', 100)),
      c.embed(texts('c', 60)),
    ]);
    expect(embedder.batches.map((batch) => batch.length)).toEqual([128, 128, 4]);
    expect(results.map((r) => r.vectors)).toEqual([numbers(100), numbers(100), numbers(60)]);
    // Tokens: 260 texts × 3 = 780 in all, shared by text length; every member took part in ≥1 request.
    expect(results.reduce((n, r) => n + r.inputTokens, 0)).toBe(780);
    expect(results.map((r) => r.calls)).toEqual([1, 2, 2]);
  });

  it('when each source alone would need a partial request then the group needs ceil(total / 128)', async () => {
    const embedder = recordingEmbedder();
    const group = createEmbeddingGroup(embedder, 40);
    await Promise.all(Array.from({ length: 40 }, (_, i) => group.member().embed(texts(`m${i}`, 25))));
    // 40 sources × 25 chunks = 1000 chunks: 8 requests, where one source at a time would have made 40.
    expect(embedder.batches.length).toBe(Math.ceil(1000 / 128));
  });

  it('when a member leaves without embedding then the others do not wait for it', async () => {
    const embedder = recordingEmbedder();
    const group = createEmbeddingGroup(embedder, 2, { lingerMs: 60_000 });
    const [a, b] = [group.member(), group.member()];
    const pending = a.embed(texts('a', 5));
    b.leave();
    await expect(pending).resolves.toMatchObject({ vectors: numbers(5), inputTokens: 15 });
    b.leave(); // leaving twice, or after embedding, changes nothing
    a.leave();
  });

  it('when a member never arrives then the partial request goes out after the linger time', async () => {
    const embedder = recordingEmbedder();
    const group = createEmbeddingGroup(embedder, 2, { lingerMs: 30 });
    const started = Date.now();
    const result = await group.member().embed(texts('a', 3));
    expect(result.vectors).toEqual(numbers(3));
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(embedder.batches).toEqual([texts('a', 3)]);
  });

  it('when a shared request is refused then each part is tried alone and only the source at fault fails', async () => {
    const embedder = recordingEmbedder();
    const refusing: Embedder = {
      ...embedder,
      embed: async (batch, options) => {
        if (batch.some((t) => t.startsWith('bad:'))) {
          embedder.batches.push([...batch]);
          throw new ProviderError('This text was refused.', { status: 400 });
        }
        return embedder.embed(batch, options);
      },
    };
    const group = createEmbeddingGroup(refusing, 3);
    const [a, bad, c] = await Promise.allSettled([
      group.member().embed(texts('a', 100)),
      group.member().embed(texts('bad', 56)),
      group.member().embed(texts('c', 10)),
    ]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { vectors: numbers(100) } });
    expect(c).toMatchObject({ status: 'fulfilled', value: { vectors: numbers(10) } });
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'This text was refused.' } });
    // [a 100 + bad 28] refused → a's 100 alone, bad's 28 alone (refused); then [bad 28 + c 10] refused →
    // bad is already failed, c's 10 alone.
    expect(embedder.batches.map((b) => b.length)).toEqual([128, 100, 28, 38, 10]);
  });

  it('when the provider is down then every member of the request fails at once, without a request per member', async () => {
    const embedder = recordingEmbedder();
    const down: Embedder = {
      ...embedder,
      embed: async (batch) => {
        embedder.batches.push([...batch]);
        throw new ProviderError('The embedding provider is unavailable.', { status: 503 });
      },
    };
    const group = createEmbeddingGroup(down, 2, { maxRetries: 0 });
    const settled = await Promise.allSettled([
      group.member().embed(texts('a', 3)),
      group.member().embed(texts('b', 3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(embedder.batches.length).toBe(1);
  });

  it('when a member embeds twice then it is told so', async () => {
    const group = createEmbeddingGroup(recordingEmbedder(), 1);
    const member = group.member();
    await member.embed(texts('a', 1));
    expect(() => member.embed(texts('a', 1))).toThrow(/already embedded/);
  });

  it('when a member has no texts then it gets an empty result and the group goes on', async () => {
    const embedder = recordingEmbedder();
    const group = createEmbeddingGroup(embedder, 2, { lingerMs: 60_000 });
    const [empty, full] = await Promise.all([group.member().embed([]), group.member().embed(texts('b', 2))]);
    expect(empty).toEqual({ vectors: [], inputTokens: 0, calls: 0 });
    expect(full.vectors).toEqual(numbers(2));
  });
});

describe('embeddingGroupsByTenant', () => {
  it('when a delivery holds two tenants then no request carries texts of both', async () => {
    const embedder = recordingEmbedder();
    const tenants = ['t1', 't2', 't1', 't2', 't1'];
    const members = embeddingGroupsByTenant(tenants, embedder);
    await Promise.all(members.map((m, i) => m.embed(texts(`${tenants[i]}-${i}`, 30))));
    for (const batch of embedder.batches) {
      expect(new Set(batch.map((t) => t.slice(0, 2))).size).toBe(1);
    }
    // t1: 90 texts → 1 request; t2: 60 texts → 1 request.
    expect(embedder.batches.map((b) => b.length).sort()).toEqual([60, 90]);
  });
});
