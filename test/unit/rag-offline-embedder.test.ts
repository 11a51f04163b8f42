import { describe, expect, it } from 'vitest';
import { createOfflineEmbedder } from '#shared/adapters/offline/embedder.ts';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
const norm = (a: number[]) => Math.sqrt(cosine(a, a));

describe('offline embedder', () => {
  const embedder = createOfflineEmbedder();

  it('when created with defaults then it describes its space and batch limit', () => {
    expect(embedder.space).toEqual({ provider: 'offline', model: 'hashed-ngrams-v1', dimensions: 384 });
    expect(embedder.maxBatchSize).toBe(128);
    expect(createOfflineEmbedder({ dimensions: 64 }).space.dimensions).toBe(64);
  });

  it('when embedding the same texts twice then the vectors are identical', async () => {
    const texts = ['Retrieval augmented generation', 'Tenants never see each other'];
    const first = await embedder.embed(texts);
    const second = await createOfflineEmbedder().embed(texts);
    expect(first).toEqual(second);
    expect(first.inputTokens).toBe(0);
  });

  it('when embedding then every vector has the dimensions and unit length', async () => {
    const { vectors } = await embedder.embed([
      'short',
      'a much longer text about vector databases and search',
      '',
      '!!!',
    ]);
    for (const vector of vectors) {
      expect(vector).toHaveLength(384);
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
  });

  it('when texts share words then they are closer than unrelated texts', async () => {
    const { vectors } = await embedder.embed([
      'How do I reset my account password?',
      'Resetting the password of your account',
      'The quarterly revenue grew by twelve percent',
    ]);
    const [question, related, unrelated] = vectors as [number[], number[], number[]];
    expect(cosine(question, related)).toBeGreaterThan(cosine(question, unrelated) + 0.2);
  });

  it('when only stop words differ then texts are nearly the same', async () => {
    const { vectors } = await embedder.embed(['the embedding of documents', 'embedding documents']);
    const [a, b] = vectors as [number[], number[]];
    expect(cosine(a, b)).toBeGreaterThan(0.9);
  });

  // Its speed is measured by `npm run bench` (ingest: chunking + embedding alone), not asserted here.
  it('when a full batch of 128 long chunks is embedded then each gets a finite vector of the space size', async () => {
    const text =
      'Chunks of ingested documents are embedded offline with hashed word and character features. '.repeat(
        30,
      );
    const batch = Array.from({ length: 128 }, (_, i) => `${text} ${i}`);
    const { vectors } = await embedder.embed(batch);
    expect(vectors).toHaveLength(128);
    for (const v of vectors) {
      expect(v).toHaveLength(embedder.space.dimensions);
      expect(v.every(Number.isFinite)).toBe(true);
    }
  });

  it('when the signal is already aborted then it rejects', async () => {
    await expect(embedder.embed(['x'], { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
