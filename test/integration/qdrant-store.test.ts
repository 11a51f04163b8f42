import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQdrantVectorStore } from '#shared/adapters/qdrant/vector-store.ts';
import { embeddingSpaceName } from '#shared/adapters/vector-space.ts';
import { ServiceUnavailableError } from '#shared/domain/errors.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import { type FakeQdrant, startFakeQdrant } from '#test/fakes/qdrant-server.ts';

/**
 * What only the Qdrant store decides, seen in the requests it sends to the spec-validating fake: the
 * collection and its payload indexes, each request's filter and options, the API key, the timeout, and
 * the tenant check on what comes back. The behaviour every vector store shares is in
 * test/contract/vector-store.test.ts.
 */
let fake: FakeQdrant;
const runId = randomUUID().slice(0, 8);
const spaceOf = (label: string, dimensions = 4): EmbeddingSpace => ({
  provider: 'qdrant-store',
  model: `${label}-${runId}`,
  dimensions,
});
const tenant = () => asTenantId(randomUUID());
const point = (vector: number[], o: { tags?: string[]; sourceId?: string; sourceVersion?: number } = {}) => {
  const id = randomUUID();
  return {
    id,
    vector,
    sourceId: o.sourceId ?? randomUUID(),
    sourceVersion: o.sourceVersion ?? 1,
    chunkId: id,
    tags: o.tags ?? [],
  };
};
const sent = (operationId: string, collection: string) =>
  fake.requests.filter((r) => r.operationId === operationId && r.path.includes(collection));

beforeAll(async () => {
  fake = await startFakeQdrant();
});
afterEach(() => {
  expect(fake.violations).toEqual([]);
});
afterAll(async () => fake?.close());

describe('Qdrant store', () => {
  it('when a collection already exists with its indexes then a new store creates nothing', async () => {
    const space = spaceOf('existing');
    const name = embeddingSpaceName(space);
    await createQdrantVectorStore({ url: fake.url }).ensureSpace(space);
    expect(sent('create_collection', name).map((r) => r.body)).toEqual([
      { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { payload_m: 16, m: 0 } },
    ]);
    expect(
      sent('create_field_index', name).map((r) => (r.body as { field_name: string }).field_name),
    ).toEqual(['tenant_id', 'source_id', 'source_version', 'tags']);
    expect(sent('create_field_index', name).every((r) => r.query.wait === 'true')).toBe(true);
    const store = createQdrantVectorStore({ url: fake.url });
    await store.ensureSpace(space);
    await store.ensureSpace(space);
    expect(sent('create_collection', name)).toHaveLength(1);
    expect(sent('create_field_index', name)).toHaveLength(4);
    expect(sent('collection_exists', name)).toHaveLength(2);
  });

  it('when the collection exists with another vector size then a non-retryable 503 says how to fix it', async () => {
    const space = spaceOf('resized');
    const name = embeddingSpaceName(space);
    // Made by hand with another size under the name this space maps to.
    await new QdrantClient({ url: fake.url, checkCompatibility: false }).createCollection(name, {
      vectors: { size: 8, distance: 'Cosine' },
    });
    const error = await createQdrantVectorStore({ url: fake.url })
      .ensureSpace(space)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toBe(
      `Qdrant collection ${name} exists with vectors of size 8, but the embedder makes 4: set EMBEDDING_DIMENSIONS to match the collection, or drop the collection and ingest again.`,
    );
  });

  it('when ensuring a space fails then the next call tries again', async () => {
    let down = true;
    const flaky = await startFakeQdrant({ unavailable: () => down });
    try {
      const store = createQdrantVectorStore({ url: flaky.url });
      const space = spaceOf('flaky');
      await expect(store.ensureSpace(space)).rejects.toBeInstanceOf(ServiceUnavailableError);
      down = false;
      await store.ensureSpace(space);
      expect(flaky.requests.filter((r) => r.operationId === 'create_collection')).toHaveLength(1);
    } finally {
      await flaky.close();
    }
  });

  it.each([
    ['collection_exists', 'collection lookup', 'ensure'],
    ['create_collection', 'collection creation', 'ensure'],
    ['get_collection', 'collection lookup', 'ensure'],
    ['create_field_index', 'payload index creation', 'ensure'],
    ['upsert_points', 'upsert', 'upsert'],
    ['query_points', 'search', 'search'],
    ['delete_points', 'delete', 'delete'],
    ['count_points', 'count', 'count'],
  ] as const)('when Qdrant fails %s then the error names the %s', async (operationId, label, action) => {
    let failing = false;
    const flaky = await startFakeQdrant({ unavailable: (op) => failing && op === operationId });
    try {
      const store = createQdrantVectorStore({ url: flaky.url });
      const space = spaceOf(`fails-${operationId.replaceAll('_', '-')}`);
      const t = tenant();
      if (action !== 'ensure') await store.upsert(t, space, [point([1, 0, 0, 0])]);
      failing = true;
      const run = {
        ensure: () => store.ensureSpace(space),
        upsert: () => store.upsert(t, space, [point([0, 1, 0, 0])]),
        search: () => store.search(t, space, [1, 0, 0, 0], { limit: 1 }),
        delete: () => store.deleteBySource(t, space, randomUUID()),
        count: () => store.countBySource(t, space, randomUUID()),
      }[action];
      const error = await run().catch((e) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toContain(`(Qdrant ${label} failed (HTTP 503): Service Unavailable)`);
    } finally {
      await flaky.close();
    }
  });

  it('when the health check fails then the error names it', async () => {
    const down = await startFakeQdrant({ unavailable: () => true });
    try {
      const error = await createQdrantVectorStore({ url: down.url })
        .ping(spaceOf('ping'))
        .catch((e) => e);
      expect(error.message).toContain('(Qdrant health check failed (HTTP 503)');
    } finally {
      await down.close();
    }
  });

  it('when a collection has no single unnamed vector then the size mismatch says so instead of failing', async () => {
    const client = {
      collectionExists: async () => ({ exists: true }),
      getCollection: async () => ({ config: { params: {} }, payload_schema: {} }),
    } as unknown as QdrantClient;
    const space = spaceOf('named');
    const error = await createQdrantVectorStore({ url: 'http://unused', client })
      .ensureSpace(space)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toContain('exists with vectors of size undefined, but the embedder makes 4');
  });

  it('when an API key is configured then every request carries it, and none without one', async () => {
    const space = spaceOf('keyed');
    const before = fake.requests.length;
    await createQdrantVectorStore({ url: fake.url, apiKey: 'a-key' }).ensureSpace(space);
    const keyed = fake.requests.slice(before);
    expect(keyed.length).toBeGreaterThan(0);
    expect(keyed.every((r) => r.hadApiKey)).toBe(true);
    const after = fake.requests.length;
    await createQdrantVectorStore({ url: fake.url }).ping(space);
    expect(fake.requests.slice(after).map((r) => r.hadApiKey)).toEqual([false]);
  });

  it('when points are upserted then each carries its tenant, source, version, chunk and distinct tags, and the upsert waits', async () => {
    const space = spaceOf('upsert');
    const store = createQdrantVectorStore({ url: fake.url });
    const t = tenant();
    const p = point([1, 0, 0, 0], { tags: ['hr', 'hr', 'eng'], sourceVersion: 3 });
    await store.upsert(t, space, [p]);
    const [request] = sent('upsert_points', embeddingSpaceName(space));
    expect(request?.query).toMatchObject({ wait: 'true' });
    expect(request?.body).toEqual({
      points: [
        {
          id: p.id,
          vector: [1, 0, 0, 0],
          payload: {
            tenant_id: t,
            source_id: p.sourceId,
            source_version: 3,
            chunk_id: p.chunkId,
            tags: ['hr', 'eng'],
          },
        },
      ],
    });
    await store.upsert(t, space, []);
    expect(sent('upsert_points', embeddingSpaceName(space))).toHaveLength(1);
  });

  it('when searching then the request names the tenant, the distinct tags, the limit, the threshold only when given, and only the payload it reads', async () => {
    const space = spaceOf('search');
    const store = createQdrantVectorStore({ url: fake.url });
    const t = tenant();
    const p = point([1, 0, 0, 0], { tags: ['hr'], sourceVersion: 2 });
    await store.upsert(t, space, [p]);
    const hits = await store.search(t, space, [1, 0, 0, 0], { limit: 3.7, tags: ['hr', 'hr'] });
    expect(hits).toEqual([
      { id: p.id, chunkId: p.chunkId, sourceId: p.sourceId, sourceVersion: 2, score: 1 },
    ]);
    await store.search(t, space, [1, 0, 0, 0], { limit: 1, scoreThreshold: 0 });
    const [first, second] = sent('query_points', embeddingSpaceName(space)).map((r) => r.body);
    expect(first).toEqual({
      query: [1, 0, 0, 0],
      filter: {
        must: [
          { key: 'tenant_id', match: { value: t } },
          { key: 'tags', match: { any: ['hr'] } },
        ],
      },
      limit: 3,
      with_payload: ['tenant_id', 'source_id', 'source_version', 'chunk_id'],
    });
    expect(second).toMatchObject({
      filter: { must: [{ key: 'tenant_id', match: { value: t } }] },
      limit: 1,
      score_threshold: 0,
    });
  });

  it('when deleting or counting by source then the filter names the tenant, the source and the version condition', async () => {
    const space = spaceOf('by-source');
    const name = embeddingSpaceName(space);
    const store = createQdrantVectorStore({ url: fake.url });
    const t = tenant();
    const source = randomUUID();
    await store.upsert(t, space, [
      point([1, 0, 0, 0], { sourceId: source, sourceVersion: 1 }),
      point([0, 1, 0, 0], { sourceId: source, sourceVersion: 2 }),
    ]);
    expect(await store.countBySource(t, space, source, { version: 2 })).toBe(1);
    expect(await store.countBySource(t, space, source)).toBe(2);
    await store.deleteBySource(t, space, source, { exceptVersion: 2 });
    expect(await store.countBySource(t, space, source)).toBe(1);
    await store.deleteBySource(t, space, source);
    expect(await store.countBySource(t, space, source)).toBe(0);
    const base = [
      { key: 'tenant_id', match: { value: t } },
      { key: 'source_id', match: { value: source } },
    ];
    expect(sent('count_points', name).map((r) => r.body)).toEqual([
      { filter: { must: [...base, { key: 'source_version', match: { value: 2 } }] }, exact: true },
      { filter: { must: base }, exact: true },
      { filter: { must: base }, exact: true },
      { filter: { must: base }, exact: true },
    ]);
    expect(sent('delete_points', name).map((r) => r.body)).toEqual([
      { filter: { must: base, must_not: [{ key: 'source_version', match: { value: 2 } }] } },
      { filter: { must: base } },
    ]);
    expect(sent('delete_points', name).every((r) => r.query.wait === 'true')).toBe(true);
  });

  it("when Qdrant returns another tenant's point despite the filter then it is dropped", async () => {
    const space = spaceOf('belt');
    const t = tenant();
    const own = {
      id: randomUUID(),
      score: 0.9,
      payload: { tenant_id: t, source_id: 's', source_version: 1, chunk_id: 'c' },
    };
    const foreign = { ...own, id: randomUUID(), payload: { ...own.payload, tenant_id: tenant() } };
    const unlabelled = { ...own, id: randomUUID(), payload: null };
    const client = {
      collectionExists: async () => ({ exists: true }),
      getCollection: async () => ({
        config: { params: { vectors: { size: 4 } } },
        payload_schema: { tenant_id: {}, source_id: {}, source_version: {}, tags: {} },
      }),
      query: async () => ({ points: [foreign, own, unlabelled] }),
    } as unknown as QdrantClient;
    const hits = await createQdrantVectorStore({ url: 'http://unused', client }).search(
      t,
      space,
      [1, 0, 0, 0],
      {
        limit: 5,
      },
    );
    expect(hits.map((h) => h.id)).toEqual([own.id]);
  });

  it('when a request takes longer than the timeout then it fails as unavailable within about that time', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = Date.now();
      const error = await createQdrantVectorStore({ url, timeoutMs: 300 })
        .ensureSpace(spaceOf('slow'))
        .catch((e) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
