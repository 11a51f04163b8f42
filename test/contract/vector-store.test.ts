import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPgVectorStore } from '#shared/adapters/pgvector/vector-store.ts';
import { createQdrantVectorStore } from '#shared/adapters/qdrant/vector-store.ts';
import { embeddingSpaceName } from '#shared/adapters/vector-space.ts';
import { sql } from '#shared/db/sql.ts';
import { ProviderError, ServiceUnavailableError, ValidationError } from '#shared/domain/errors.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import { pointId, uuidV5 } from '#shared/domain/point-id.ts';
import type { Database } from '#shared/ports/database.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import type { VectorPoint, VectorStore } from '#shared/ports/vector-store.ts';
import { type FakeQdrant, startFakeQdrant } from '#test/fakes/qdrant-server.ts';
import { databaseKinds, pgvectorServerSkip } from '#test/fixtures/databases.ts';

type Store = Required<VectorStore>;
interface Harness {
  newStore(): Store;
  addTenant(): Promise<TenantId>;
  db?: Database;
  fake?: FakeQdrant;
  dispose(): Promise<void>;
}
interface AdapterCase {
  readonly name: string;
  readonly skip: string | false;
  start(): Promise<Harness>;
}

const runId = randomUUID().slice(0, 8);
const space: EmbeddingSpace = { provider: 'contract', model: `m-${runId}`, dimensions: 4 };

async function pgvectorHarness(kind: 'pglite' | 'postgres'): Promise<Harness> {
  const found = databaseKinds().find((k) => k.name === kind);
  if (!found) throw new Error(`no ${kind} test database`);
  const { db, dispose } = await found.create();
  return {
    db,
    newStore: () => createPgVectorStore(db),
    async addTenant() {
      const id = asTenantId(randomUUID());
      await db.withSystem((tx) =>
        tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${id}, ${'T'})`),
      );
      return id;
    },
    dispose,
  };
}

async function qdrantHarness(url: string, fake?: FakeQdrant): Promise<Harness> {
  const apiKey = fake ? undefined : process.env.QDRANT_API_KEY;
  return {
    ...(fake ? { fake } : {}),
    newStore: () => createQdrantVectorStore({ url, ...(apiKey ? { apiKey } : {}) }),
    addTenant: async () => asTenantId(randomUUID()),
    async dispose() {
      if (fake) return fake.close();
      const client = new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
      const { collections } = await client.getCollections();
      const ours = collections.filter((c) => c.name.includes(runId));
      await Promise.all(ours.map((c) => client.deleteCollection(c.name)));
    },
  };
}

const cases: AdapterCase[] = [
  { name: 'pgvector on PGlite', skip: false, start: () => pgvectorHarness('pglite') },
  {
    name: 'pgvector on PostgreSQL',
    skip: await pgvectorServerSkip(),
    start: () => pgvectorHarness('postgres'),
  },
  {
    name: 'Qdrant (js client against the spec-validating fake)',
    skip: false,
    start: async () => {
      const fake = await startFakeQdrant();
      return qdrantHarness(fake.url, fake);
    },
  },
  {
    name: 'Qdrant (real server)',
    skip: process.env.QDRANT_URL ? false : 'QDRANT_URL is not set',
    start: () => qdrantHarness(process.env.QDRANT_URL ?? ''),
  },
];

const cosine = (a: readonly number[], b: readonly number[]) => {
  const dot = a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
  return dot / (Math.hypot(...a) * Math.hypot(...b));
};

function points(
  tenantId: TenantId,
  sourceId: string,
  version: number,
  vectors: number[][],
  tags: string[][] = [],
) {
  return vectors.map((vector, ordinal): VectorPoint => {
    const id = pointId(tenantId, sourceId, version, ordinal);
    return { id, vector, sourceId, sourceVersion: version, chunkId: id, tags: tags[ordinal] ?? [] };
  });
}

/** A local URL nothing listens on: a port that was just free. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const ids = (hits: ReadonlyArray<{ id: string }>) => hits.map((h) => h.id);

for (const adapter of cases) {
  const title = adapter.skip ? `${adapter.name} — skipped: ${adapter.skip}` : adapter.name;
  describe.skipIf(adapter.skip !== false)(`VectorStore contract: ${title}`, () => {
    let h: Harness;
    let store: Store;

    beforeAll(async () => {
      h = await adapter.start();
      store = h.newStore();
      await store.ensureSpace(space);
    });
    afterEach(() => {
      expect(h.fake?.violations ?? []).toEqual([]);
    });
    afterAll(async () => {
      await h?.dispose();
    });

    it('when ensureSpace runs twice and concurrently from two stores then it succeeds and the space works', async () => {
      const fresh = { ...space, model: `fresh-${runId}`, dimensions: 3 };
      const other = h.newStore();
      await Promise.all([store.ensureSpace(fresh), other.ensureSpace(fresh), store.ensureSpace(fresh)]);
      await other.ensureSpace(fresh);
      const tenant = await h.addTenant();
      await other.upsert(tenant, fresh, points(tenant, randomUUID(), 1, [[1, 2, 3]]));
      expect(await store.search(tenant, fresh, [1, 2, 3], { limit: 5 })).toHaveLength(1);
    });

    it('when points are upserted then search returns the nearest by cosine, best first, with cosine scores', async () => {
      const tenant = await h.addTenant();
      const vectors = [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 0, 0],
        [-1, 0, 0.2, 0],
      ];
      const stored = points(tenant, randomUUID(), 1, vectors);
      await store.upsert(tenant, space, stored);
      const query = [1, 0.2, 0, 0];
      const hits = await store.search(tenant, space, query, { limit: 10 });
      const expected = stored
        .map((p) => ({ id: p.id, score: cosine(p.vector, query) }))
        .sort((a, b) => b.score - a.score);
      expect(ids(hits)).toEqual(ids(expected));
      hits.forEach((hit, i) => {
        expect(hit.score).toBeCloseTo(expected[i]?.score ?? Number.NaN, 4);
      });
      expect(hits[0]).toMatchObject({
        chunkId: stored[0]?.id,
        sourceId: stored[0]?.sourceId,
        sourceVersion: 1,
      });
      expect(ids(await store.search(tenant, space, query, { limit: 2 }))).toEqual(ids(expected).slice(0, 2));
    });

    it('when the same ids are upserted twice then there are no duplicates and the last vector wins', async () => {
      const tenant = await h.addTenant();
      const source = randomUUID();
      await store.upsert(
        tenant,
        space,
        points(tenant, source, 1, [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ]),
      );
      await store.upsert(
        tenant,
        space,
        points(tenant, source, 1, [
          [0, 0, 0, 1],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ]),
      );
      expect(await store.countBySource(tenant, space, source)).toBe(3);
      const hits = await store.search(tenant, space, [0, 0, 0, 1], { limit: 10 });
      expect(new Set(ids(hits)).size).toBe(3);
      expect(hits[0]?.id).toBe(pointId(tenant, source, 1, 0));
      expect(hits[0]?.score).toBeCloseTo(1, 4);
    });

    it("when tenant B searches with tenant A's exact vector then it never gets A's points", async () => {
      const [a, b] = [await h.addTenant(), await h.addTenant()];
      const vector = [0.3, 0.4, 0.5, 0.6];
      const ofA = points(a, randomUUID(), 1, [vector, [0.3, 0.4, 0.5, 0.61]]);
      await store.upsert(a, space, ofA);
      expect(await store.search(b, space, vector, { limit: 100 })).toEqual([]);
      const ofB = points(b, randomUUID(), 1, [[-0.3, 0.4, 0.5, 0.6]]);
      await store.upsert(b, space, ofB);
      expect(ids(await store.search(b, space, vector, { limit: 100 }))).toEqual(ids(ofB));
      expect(ids(await store.search(a, space, vector, { limit: 100 }))).toEqual(ids(ofA));
    });

    it("when tenant B deletes tenant A's source id then A's points remain", async () => {
      const [a, b] = [await h.addTenant(), await h.addTenant()];
      const source = randomUUID();
      await store.upsert(
        a,
        space,
        points(a, source, 2, [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
        ]),
      );
      await store.deleteBySource(b, space, source);
      await store.deleteBySource(b, space, source, { exceptVersion: 7 });
      expect(await store.countBySource(a, space, source)).toBe(2);
      expect(await store.countBySource(b, space, source)).toBe(0);
      expect(await store.search(a, space, [1, 0, 0, 0], { limit: 10 })).toHaveLength(2);
    });

    it('when searching with tags then only points carrying one of them are returned', async () => {
      const tenant = await h.addTenant();
      const v = [1, 1, 1, 1];
      const [hr, both, eng, none] = points(
        tenant,
        randomUUID(),
        1,
        [v, v, v, v],
        [['hr'], ['eng', 'hr'], ['eng'], []],
      );
      await store.upsert(tenant, space, [hr!, both!, eng!, none!]);
      const found = async (tags: string[]) =>
        ids(await store.search(tenant, space, v, { limit: 10, tags })).sort();
      expect(await found(['hr'])).toEqual([hr!.id, both!.id].sort());
      expect(await found(['eng', 'legal', 'eng'])).toEqual([both!.id, eng!.id].sort());
      expect(await found(['legal'])).toEqual([]);
      expect(await found([])).toHaveLength(4);
    });

    it('when deleteBySource keeps the new version after a re-ingest then only that version remains', async () => {
      const tenant = await h.addTenant();
      const [source, neighbour] = [randomUUID(), randomUUID()];
      await store.upsert(
        tenant,
        space,
        points(tenant, source, 1, [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ]),
      );
      await store.upsert(tenant, space, points(tenant, neighbour, 1, [[1, 0, 0, 0]]));
      const v2 = points(tenant, source, 2, [
        [1, 0.1, 0, 0],
        [0, 0, 0, 1],
      ]);
      await store.upsert(tenant, space, v2);
      await store.deleteBySource(tenant, space, source, { exceptVersion: 2 });
      expect(await store.countBySource(tenant, space, source, { version: 1 })).toBe(0);
      expect(await store.countBySource(tenant, space, source, { version: 2 })).toBe(2);
      expect(await store.countBySource(tenant, space, neighbour)).toBe(1);
      const hits = await store.search(tenant, space, [1, 0, 0, 0], { limit: 10 });
      expect(hits.filter((hit) => hit.sourceId === source).map((hit) => hit.sourceVersion)).toEqual([2, 2]);
      await store.deleteBySource(tenant, space, source);
      expect(await store.countBySource(tenant, space, source)).toBe(0);
      expect(await store.countBySource(tenant, space, neighbour)).toBe(1);
    });

    it('when a score threshold is given then only hits scoring at least that much are returned', async () => {
      const tenant = await h.addTenant();
      const stored = points(tenant, randomUUID(), 1, [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 0, 0],
      ]);
      await store.upsert(tenant, space, stored);
      const hits = await store.search(tenant, space, [1, 0, 0, 0], { limit: 10, scoreThreshold: 0.5 });
      expect(ids(hits)).toEqual([stored[0]?.id, stored[1]?.id]);
      expect(await store.search(tenant, space, [1, 0, 0, 0], { limit: 10, scoreThreshold: 1.01 })).toEqual(
        [],
      );
    });

    it('when the threshold equals a score exactly then that hit is kept', async () => {
      const tenant = await h.addTenant();
      // Axis vectors score exactly 1, 0 and -1 against an axis, in float32 as in float64.
      const stored = points(tenant, randomUUID(), 1, [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [-1, 0, 0, 0],
      ]);
      await store.upsert(tenant, space, stored);
      const above = (scoreThreshold: number) =>
        store.search(tenant, space, [1, 0, 0, 0], { limit: 10, scoreThreshold }).then(ids);
      expect(await above(1)).toEqual([stored[0]?.id]);
      expect(await above(0)).toEqual([stored[0]?.id, stored[1]?.id]);
    });

    it('when the limit is below 1 or not a number then search returns nothing, and a fractional limit is rounded down', async () => {
      const tenant = await h.addTenant();
      await store.upsert(
        tenant,
        space,
        points(tenant, randomUUID(), 1, [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
        ]),
      );
      for (const limit of [0, 0.9, -1, Number.NaN]) {
        expect(await store.search(tenant, space, [1, 0, 0, 0], { limit })).toEqual([]);
      }
      expect(await store.search(tenant, space, [1, 0, 0, 0], { limit: 1 })).toHaveLength(1);
      expect(await store.search(tenant, space, [1, 0, 0, 0], { limit: 1.9 })).toHaveLength(1);
    });

    it('when a source id is not a UUID then nothing matches it and nothing fails', async () => {
      const tenant = await h.addTenant();
      await store.upsert(tenant, space, points(tenant, randomUUID(), 1, [[1, 0, 0, 0]]));
      expect(await store.countBySource(tenant, space, 'not-a-uuid')).toBe(0);
      expect(await store.countBySource(tenant, space, "x' or true --", { version: 1 })).toBe(0);
      await store.deleteBySource(tenant, space, 'not-a-uuid');
      await store.deleteBySource(tenant, space, 'not-a-uuid', { exceptVersion: 1 });
      expect(await store.search(tenant, space, [1, 0, 0, 0], { limit: 10 })).toHaveLength(1);
    });

    it('when points live in another embedding space then a search never compares against them', async () => {
      const tenant = await h.addTenant();
      const otherSpace = { ...space, model: `other-${runId}` };
      await store.upsert(tenant, otherSpace, points(tenant, randomUUID(), 1, [[1, 0, 0, 0]]));
      expect(await store.search(tenant, space, [1, 0, 0, 0], { limit: 10 })).toEqual([]);
    });

    it('when a vector does not fit the space then it is rejected before it reaches storage', async () => {
      const tenant = await h.addTenant();
      const bad = points(tenant, randomUUID(), 1, [[1, 0, 0]]);
      await expect(store.upsert(tenant, space, bad)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.search(tenant, space, [1, 0], { limit: 3 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.search(tenant, space, [1, 0], { limit: 3 })).rejects.toThrow(/^query vector has 2/);
      const notUuid = { ...points(tenant, randomUUID(), 1, [[1, 0, 0, 0]])[0]!, id: 'chunk-1' };
      await expect(store.upsert(tenant, space, [notUuid])).rejects.toBeInstanceOf(ValidationError);
    });

    it("when one tenant is large then a small tenant's search still returns its exact k nearest", async () => {
      const [big, small] = [await h.addTenant(), await h.addTenant()];
      let seed = 7;
      const random = () => {
        seed = (seed * 16807) % 2147483647; // Park–Miller: reproducible, so a failure can be replayed
        return (seed / 2147483647) * 2 - 1;
      };
      const vec = () => [random(), random(), random(), random()];
      for (let batch = 0; batch < 5; batch++) {
        await store.upsert(big, space, points(big, randomUUID(), 1, Array.from({ length: 200 }, vec)));
      }
      const own = points(small, randomUUID(), 1, Array.from({ length: 15 }, vec));
      await store.upsert(small, space, own);
      const query = vec();
      const hits = await store.search(small, space, query, { limit: 10 });
      const exact = own
        .map((p) => ({ id: p.id, score: cosine(p.vector, query) }))
        .sort((x, y) => y.score - x.score);
      expect(ids(hits)).toEqual(ids(exact).slice(0, 10));
    });

    if (adapter.name.startsWith('pgvector')) {
      it("when a tenant's transaction reads the table without a filter then RLS shows only its own rows", async () => {
        const [a, b] = [await h.addTenant(), await h.addTenant()];
        await store.upsert(
          a,
          space,
          points(a, randomUUID(), 1, [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
          ]),
        );
        await store.upsert(b, space, points(b, randomUUID(), 1, [[1, 0, 0, 0]]));
        const seen = await h.db!.withTenant(b, (tx) =>
          tx.query<{ tenant_id: string }>(sql`select distinct tenant_id from chunk_vectors`),
        );
        expect(seen.map((r) => r.tenant_id)).toEqual([b]);
      });
    }

    if (adapter.name.includes('fake')) {
      it('when a space is ensured then the collection follows the multitenancy guide', () => {
        const fake = h.fake!;
        const name = embeddingSpaceName(space);
        const create = fake.requests.find(
          (r) => r.operationId === 'create_collection' && r.path.endsWith(name),
        );
        expect(create?.body).toMatchObject({
          vectors: { size: 4, distance: 'Cosine' },
          hnsw_config: { payload_m: 16, m: 0 },
        });
        const indexes = fake.requests
          .filter((r) => r.operationId === 'create_field_index' && r.path.includes(name))
          .map((r) => r.body);
        expect(indexes).toEqual(
          expect.arrayContaining([
            { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true } },
            expect.objectContaining({
              field_name: 'source_id',
              field_schema: expect.objectContaining({ type: 'keyword' }),
            }),
            expect.objectContaining({
              field_name: 'tags',
              field_schema: expect.objectContaining({ type: 'keyword' }),
            }),
          ]),
        );
      });

      it('when Qdrant answers with an error then it becomes a ProviderError without the API key', async () => {
        const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
        const apiKey = `secret-${randomUUID()}`;
        const keyed = createQdrantVectorStore({ url: h.fake!.url, apiKey });
        const lost = { ...space, model: `lost-${runId}` };
        await keyed.ensureSpace(lost);
        await new QdrantClient({ url: h.fake!.url, checkCompatibility: false }).deleteCollection(
          embeddingSpaceName(lost),
        );
        const error = await keyed
          .search(asTenantId(randomUUID()), lost, [1, 0, 0, 0], { limit: 1 })
          .catch((e) => e);
        expect(error).toBeInstanceOf(ProviderError);
        expect(error.status).toBe(502);
        expect(error.message).toMatch(
          /^Qdrant search failed \(HTTP 404\): Not found: Collection .* doesn't exist/,
        );
        expect(inspect(error, { depth: 10 })).not.toContain(apiKey);
        const unreachable = createQdrantVectorStore({ url: await closedPortUrl(), apiKey });
        const refused = await unreachable.ensureSpace(lost).catch((e) => e);
        // Unreachable is an outage of ours, not a provider's refusal: 503, and ingestion keeps its attempts.
        expect(refused).toBeInstanceOf(ServiceUnavailableError);
        expect(refused.status).toBe(503);
        expect(refused.message).toContain('cannot reach the server');
        expect(inspect(refused, { depth: 10 })).not.toContain(apiKey);
        warn.mockRestore();
      });

      it('when the suite has run then every query, delete and count sent to Qdrant was filtered by tenant', () => {
        const tenantScoped = h.fake!.requests.filter((r) =>
          ['query_points', 'delete_points', 'count_points'].includes(r.operationId ?? ''),
        );
        expect(tenantScoped.length).toBeGreaterThan(20);
        for (const request of tenantScoped) {
          const must = (request.body as { filter?: { must?: unknown[] } }).filter?.must ?? [];
          expect(must).toContainEqual({
            key: 'tenant_id',
            match: { value: expect.stringMatching(/^[0-9a-f-]{36}$/) },
          });
        }
      });
    }
  });
}

describe('pointId', () => {
  it('when computing a UUIDv5 then it matches the RFC 9562 reference value', () => {
    // python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('when the same chunk is identified twice then the id is the same, and any other input changes it', () => {
    const [tenant, source] = [randomUUID(), randomUUID()];
    const id = pointId(tenant, source, 3, 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId(tenant, source, 3, 0)).toBe(id);
    const others = [
      pointId(randomUUID(), source, 3, 0),
      pointId(tenant, randomUUID(), 3, 0),
      pointId(tenant, source, 4, 0),
    ];
    expect(new Set([id, ...others, pointId(tenant, source, 3, 1)]).size).toBe(5);
  });
});
