import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestRetryableError } from '#shared/domain/errors.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
import type { VectorStore } from '#shared/ports/vector-store.ts';
import { ingestSource } from '#shared/usecases/ingest-source.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  startIngestHarness,
} from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

const content = (topic: string) =>
  Array.from(
    { length: 12 },
    (_, i) =>
      `Section ${i} of the ${topic} guide explains step ${i} in detail, with its checks and pitfalls.`,
  ).join('\n\n');

describe.each(databaseKinds())('ingest redelivery on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let a: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    // No worker: each test delivers the messages itself, in the order it wants.
    h = await startIngestHarness(database, {
      startWorker: false,
      chunking: { maxTokens: 64, overlapTokens: 8 },
    });
    a = await createTestTenant(h.api, 'redelivery');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const first = { number: 1, isLast: false };
  async function newSource(topic: string) {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: a.apiToken,
      body: { title: topic, type: 'text', content: content(topic) },
    });
    expect(res.status, res.text).toBe(202);
    return { tenantId: a.id as string, sourceId: res.body.id as string, version: 1 };
  }
  const snapshot = async (sourceId: string) => ({
    chunks: (await h.chunkRows(sourceId)).map((r) => r.id),
    vectors: await h.vectors(a.id, sourceId),
  });

  it('when the same message is processed twice in a row then the second is a no-op', async () => {
    const message = await newSource('sequential');
    expect(await ingestSource(message, first, h.ingestDeps)).toBe('completed');
    const once = await snapshot(message.sourceId);
    expect(once.vectors).toBeGreaterThan(3);

    expect(await ingestSource(message, { number: 2, isLast: false }, h.ingestDeps)).toBe('skipped');
    expect(await snapshot(message.sourceId)).toEqual(once);
    await expectConsistentSource(h, a.id, await getSourceJson(h, a.apiToken, message.sourceId));
  });

  it('when a delivery dies after writing vectors then the redelivery writes the same ids, no duplicates', async () => {
    const message = await newSource('crash');
    const dying: VectorStore = {
      ...h.platform.vectorStore,
      upsert: async (...args) => {
        await h.platform.vectorStore.upsert(...args);
        throw new Error('worker killed right after the upsert');
      },
    };
    await expect(
      ingestSource(message, first, { ...h.ingestDeps, vectorStore: dying }),
    ).rejects.toBeInstanceOf(IngestRetryableError);
    const halfDone = await h.vectors(a.id, message.sourceId);
    expect(halfDone).toBeGreaterThan(3);
    expect((await getSourceJson(h, a.apiToken, message.sourceId)).status).toBe('PENDING');

    expect(await ingestSource(message, { number: 2, isLast: false }, h.ingestDeps)).toBe('completed');
    const source = await getSourceJson(h, a.apiToken, message.sourceId);
    expect(source.chunk_count).toBe(halfDone);
    await expectConsistentSource(h, a.id, source);
  });

  it('when the same message is processed twice concurrently then the result equals one delivery', async () => {
    const reference = await newSource('concurrent reference');
    await ingestSource(reference, first, h.ingestDeps);
    const once = await getSourceJson(h, a.apiToken, reference.sourceId);

    // Same text in another tenant (a different content hash scope), delivered twice at the same time.
    const b = await createTestTenant(h.api, 'concurrent');
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: b.apiToken,
      body: { title: 'twice', type: 'text', content: content('concurrent reference') },
    });
    const message = { tenantId: b.id as string, sourceId: res.body.id as string, version: 1 };
    const outcomes = await Promise.all([
      ingestSource(message, first, h.ingestDeps),
      ingestSource(message, first, h.ingestDeps),
    ]);
    expect(outcomes).toContain('completed');
    expect(outcomes.every((o) => o === 'completed' || o === 'skipped')).toBe(true);
    const twice = await getSourceJson(h, b.apiToken, message.sourceId);
    expect(twice).toMatchObject({
      status: 'COMPLETED',
      chunk_count: once.chunk_count,
      token_count: once.token_count,
    });
    await expectConsistentSource(h, b.id, twice);
  });

  it('when a message for an old version arrives after a re-ingest then it is skipped and changes nothing', async () => {
    const v1 = await newSource('stale');
    await ingestSource(v1, first, h.ingestDeps);
    const reingest = await call(h.api, 'POST', `/v1/sources/${v1.sourceId}/reingest`, { token: a.apiToken });
    expect(reingest.body.version).toBe(2);
    const before = await snapshot(v1.sourceId);

    expect(await ingestSource(v1, { number: 2, isLast: true }, h.ingestDeps)).toBe('skipped');
    expect(await snapshot(v1.sourceId)).toEqual(before);
    expect((await getSourceJson(h, a.apiToken, v1.sourceId)).status).toBe('PENDING');

    expect(await ingestSource({ ...v1, version: 2 }, first, h.ingestDeps)).toBe('completed');
    expect(await ingestSource(v1, first, h.ingestDeps)).toBe('skipped');
    const v2 = await getSourceJson(h, a.apiToken, v1.sourceId);
    expect(v2).toMatchObject({ version: 2, status: 'COMPLETED' });
    await expectConsistentSource(h, a.id, v2);
  });

  it('when an old version is still embedding while the new one completes then the new vectors survive', async () => {
    const v1 = await newSource('overtaken');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => {};
    const embedding = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slow: Embedder = {
      ...h.platform.embedder,
      embed: async (texts, options) => {
        started();
        await gate;
        return h.platform.embedder.embed(texts, options);
      },
    };
    const old = ingestSource(v1, first, { ...h.ingestDeps, embedder: slow });
    await embedding;
    await call(h.api, 'POST', `/v1/sources/${v1.sourceId}/reingest`, { token: a.apiToken });
    expect(await ingestSource({ ...v1, version: 2 }, first, h.ingestDeps)).toBe('completed');
    release();
    expect(await old).toBe('skipped');

    const v2 = await getSourceJson(h, a.apiToken, v1.sourceId);
    expect(v2).toMatchObject({ version: 2, status: 'COMPLETED' });
    await expectConsistentSource(h, a.id, v2);
    expect(await h.vectors(a.id, v1.sourceId, 1)).toBe(0);
  });
});
