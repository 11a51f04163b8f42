import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tenantIndexName } from '#shared/adapters/pgvector/schema.ts';
import { createPgVectorStore, HNSW_EF_SEARCH } from '#shared/adapters/pgvector/vector-store.ts';
import { embeddingSpaceName } from '#shared/adapters/vector-space.ts';
import { compile, sql } from '#shared/db/sql.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import type { Database, Queryable, SystemQueryable } from '#shared/ports/database.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import { databaseKinds, pgvectorServerSkip, type TestDatabase } from '#test/fixtures/databases.ts';

/**
 * What only the pgvector store decides, seen through the statements it sends: which search plan a tenant
 * gets (exact below the size threshold, HNSW with iterative scan and ef_search from it), how long a
 * tenant's size is reused, and that its lazily created schema is created once and retried after a failure.
 * The behaviour every vector store shares is in test/contract/vector-store.test.ts.
 */

interface SearchSeen {
  readonly exact: boolean;
  /** The HNSW settings in effect in the search's own transaction, read just before it. */
  readonly efSearch: string | null;
  readonly iterativeScan: string | null;
}

interface Watched {
  db: Database;
  readonly searches: SearchSeen[];
  /** Tenant size counts sent. */
  counts: number;
  /** Transactions opened, of any kind. */
  transactions: number;
  /** The next this many `withSystem` transactions fail before they start. */
  failSystem: number;
  /** Return the search rows worst first, as an HNSW scan in relaxed order may. */
  reverseSearchRows: boolean;
  /** Every statement fails. */
  broken: boolean;
}

function watch(db: Database): Watched {
  const w: Watched = {
    db: undefined as unknown as Database,
    searches: [],
    counts: 0,
    transactions: 0,
    failSystem: 0,
    reverseSearchRows: false,
    broken: false,
  };
  const query =
    (tx: Queryable) =>
    async <T>(fragment: Parameters<Queryable['query']>[0]): Promise<T[]> => {
      if (w.broken) throw new Error('the database is down');
      const { text } = compile(fragment);
      if (/count\(\*\)::int as n/.test(text)) w.counts++;
      if (!/ as score/.test(text)) return tx.query<T>(fragment);
      const [settings] = await tx.query<{ ef: string | null; scan: string | null }>(
        sql`select current_setting('hnsw.ef_search', true) as ef, current_setting('hnsw.iterative_scan', true) as scan`,
      );
      w.searches.push({
        exact: /materialized/.test(text),
        efSearch: settings?.ef ?? null,
        iterativeScan: settings?.scan ?? null,
      });
      const rows = await tx.query<T>(fragment);
      return w.reverseSearchRows ? [...rows].reverse() : rows;
    };
  const watched: Database = {
    kind: db.kind,
    close: () => db.close(),
    withTenant: (tenantId, fn) => {
      w.transactions++;
      return db.withTenant(tenantId, (tx) => fn({ query: query(tx) }));
    },
    withSettings: (settings, fn) => {
      w.transactions++;
      return db.withSettings(settings, (tx) => fn({ query: query(tx) }));
    },
    withSystem: (fn) => {
      w.transactions++;
      if (w.failSystem > 0) {
        w.failSystem--;
        return Promise.reject(new Error('connection lost'));
      }
      return db.withSystem((tx: SystemQueryable) =>
        fn({ query: query(tx), execScript: (script) => tx.execScript(script) }),
      );
    },
  };
  w.db = watched;
  return w;
}

const kinds = [
  { name: 'PGlite', kind: 'pglite', skip: false as string | false },
  { name: 'PostgreSQL', kind: 'postgres', skip: await pgvectorServerSkip() },
] as const;

const unit = (i: number, dims: number) => Array.from({ length: dims }, (_, j) => (j === i % dims ? 1 : 0.1));

for (const k of kinds) {
  describe.skipIf(k.skip !== false)(
    `pgvector store on ${k.name}${k.skip ? ` — skipped: ${k.skip}` : ''}`,
    () => {
      let database: TestDatabase;
      const space: EmbeddingSpace = {
        provider: 'pgvector-store',
        model: `m-${randomUUID().slice(0, 8)}`,
        dimensions: 4,
      };

      beforeAll(async () => {
        const found = databaseKinds().find((d) => d.name === k.kind);
        if (!found) throw new Error(`no ${k.kind} test database`);
        database = await found.create();
        await createPgVectorStore(database.db).ensureSpace(space);
      });
      afterAll(async () => database?.dispose());
      afterEach(() => {
        vi.useRealTimers();
      });

      async function tenantWith(n: number): Promise<TenantId> {
        const id = asTenantId(randomUUID());
        await database.db.withSystem((tx) =>
          tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${id}, ${'T'})`),
        );
        if (n > 0) await addVectors(id, n);
        return id;
      }
      async function addVectors(tenant: TenantId, n: number) {
        const sourceId = randomUUID();
        await createPgVectorStore(database.db).upsert(
          tenant,
          space,
          Array.from({ length: n }, (_, i) => ({
            id: randomUUID(),
            vector: unit(i, space.dimensions),
            sourceId,
            sourceVersion: 1,
            chunkId: randomUUID(),
            tags: [],
          })),
        );
      }

      it('when a tenant has fewer vectors than the threshold then its search is exact, and from the threshold on it goes through HNSW with iterative scan', async () => {
        const [below, at] = [await tenantWith(2), await tenantWith(3)];
        const w = watch(database.db);
        const store = createPgVectorStore(w.db, { exactSearchBelow: 3 });
        // The tenant below first: its size must not be taken for the other tenant's.
        expect(await store.search(below, space, unit(0, 4), { limit: 10 })).toHaveLength(2);
        expect(await store.search(at, space, unit(0, 4), { limit: 10 })).toHaveLength(3);
        expect(w.searches).toEqual([
          {
            exact: true,
            efSearch: expect.not.stringMatching(new RegExp(`^${HNSW_EF_SEARCH}$`)),
            iterativeScan: expect.not.stringMatching(/relaxed/),
          },
          { exact: false, efSearch: String(HNSW_EF_SEARCH), iterativeScan: 'relaxed_order' },
        ]);
      });

      it('when searching through HNSW then ef_search is the configured value, at least twice the limit, at most 1000', async () => {
        const tenant = await tenantWith(3);
        const efOf = async (options: { efSearch?: number }, limit: number) => {
          const w = watch(database.db);
          await createPgVectorStore(w.db, { exactSearchBelow: 1, ...options }).search(
            tenant,
            space,
            unit(1, 4),
            {
              limit,
            },
          );
          expect(w.searches).toHaveLength(1);
          return w.searches[0]?.efSearch;
        };
        expect(await efOf({}, 10)).toBe(String(HNSW_EF_SEARCH));
        expect(await efOf({ efSearch: 50 }, 10)).toBe('50');
        expect(await efOf({ efSearch: 50 }, 100)).toBe('200');
        expect(await efOf({}, 700)).toBe('1000');
      });

      it("when a tenant's size was counted less than 30 s ago then it is reused, and counted again after", async () => {
        const [a, b] = [await tenantWith(2), await tenantWith(1)];
        const w = watch(database.db);
        const store = createPgVectorStore(w.db, { exactSearchBelow: 3 });
        vi.useFakeTimers({ toFake: ['Date'] });
        const start = Date.now();
        const search = async (tenant: TenantId, at: number) => {
          vi.setSystemTime(start + at);
          await store.search(tenant, space, unit(0, 4), { limit: 5 });
        };
        await search(a, 0);
        await search(b, 0);
        expect(w.counts).toBe(2);
        await addVectors(a, 1); // now at the threshold, but its size is not asked again yet
        await search(a, 30_000);
        await search(b, 30_000);
        expect(w.counts).toBe(2);
        expect(w.searches.map((s) => s.exact)).toEqual([true, true, true, true]);
        await search(a, 30_001);
        expect(w.counts).toBe(3);
        expect(w.searches.at(-1)?.exact).toBe(false);
      });

      it('when the database returns neighbours out of order then the hits are still best first', async () => {
        const tenant = await tenantWith(4);
        const w = watch(database.db);
        w.reverseSearchRows = true;
        const hits = await createPgVectorStore(w.db).search(tenant, space, [1, 0.5, 0, 0], { limit: 10 });
        expect(hits).toHaveLength(4);
        const scores = hits.map((h) => h.score);
        expect(scores).toEqual([...scores].sort((x, y) => y - x));
        expect(scores[0]).toBeGreaterThan(scores[3]!);
      });

      it('when a space is ensured then its partial HNSW index exists, and one store creates it only once', async () => {
        const fresh = { ...space, model: `fresh-${randomUUID().slice(0, 8)}` };
        const w = watch(database.db);
        const store = createPgVectorStore(w.db);
        await store.ensureSpace(fresh);
        const after = w.transactions;
        await store.ensureSpace(fresh);
        await store.ensureSpace(fresh);
        expect(w.transactions).toBe(after);
        const indexes = await database.db.withSystem((tx) =>
          tx.query<{ indexdef: string }>(
            sql`select indexdef from pg_indexes where tablename = 'chunk_vectors' and indexdef like ${`%'${embeddingSpaceName(fresh)}'%`}`,
          ),
        );
        expect(indexes).toHaveLength(1);
        expect(indexes[0]?.indexdef).toMatch(/USING hnsw/);
      });

      it('when creating the table or the index fails then ensureSpace rejects, and the next call creates them', async () => {
        const fresh = { ...space, model: `retry-${randomUUID().slice(0, 8)}` };
        const indexCount = () =>
          database.db.withSystem((tx) =>
            tx.query(
              sql`select 1 from pg_indexes where tablename = 'chunk_vectors' and indexdef like ${`%'${embeddingSpaceName(fresh)}'%`}`,
            ),
          );
        const w = watch(database.db);
        const store = createPgVectorStore(w.db);
        w.failSystem = 1; // the table
        await expect(store.ensureSpace(fresh)).rejects.toThrow('connection lost');
        const w2 = watch(database.db);
        const store2 = createPgVectorStore(w2.db);
        await store2.ensureSpace(space); // the table is ensured for this store
        w2.failSystem = 1; // the index
        await expect(store2.ensureSpace(fresh)).rejects.toThrow('connection lost');
        expect(await indexCount()).toHaveLength(0);
        await store.ensureSpace(fresh);
        await store2.ensureSpace(fresh);
        expect(await indexCount()).toHaveLength(1);
      });

      it("when a tenant's own index cannot be built then the write still succeeds, and the next write builds it", async () => {
        const tenant = await tenantWith(0);
        const indexOf = () =>
          database.db.withSystem((tx) =>
            tx.query(
              sql`select 1 from pg_indexes where tablename = 'chunk_vectors' and indexname = ${tenantIndexName(embeddingSpaceName(space), tenant)}`,
            ),
          );
        const w = watch(database.db);
        const store = createPgVectorStore(w.db, { exactSearchBelow: 3 });
        const points = (n: number) =>
          Array.from({ length: n }, (_, i) => ({
            id: randomUUID(),
            vector: unit(i, space.dimensions),
            sourceId: randomUUID(),
            sourceVersion: 1,
            chunkId: randomUUID(),
            tags: [],
          }));
        await store.ensureSpace(space);
        await store.upsert(tenant, space, points(2));
        expect(await indexOf()).toHaveLength(0);
        w.failSystem = 1; // the index, when the tenant reaches 3
        await store.upsert(tenant, space, points(2));
        expect(await indexOf()).toHaveLength(0);
        // The failed build lost nothing: the four points are there.
        expect(await store.search(tenant, space, unit(0, space.dimensions), { limit: 10 })).toHaveLength(4);
        await store.upsert(tenant, space, points(1));
        expect(await indexOf()).toHaveLength(1);
        expect(await store.search(tenant, space, unit(0, space.dimensions), { limit: 10 })).toHaveLength(5);
      });

      it('when the database cannot answer then ping rejects, and when it can then ping resolves', async () => {
        const w = watch(database.db);
        const store = createPgVectorStore(w.db);
        await expect(store.ping(space)).resolves.toBeUndefined();
        w.broken = true;
        await expect(store.ping(space)).rejects.toThrow('the database is down');
      });

      it('when no points are upserted then nothing is sent to the database', async () => {
        const w = watch(database.db);
        await createPgVectorStore(w.db).upsert(await tenantWith(0), space, []);
        expect(w.transactions).toBe(0);
      });
    },
  );
}
