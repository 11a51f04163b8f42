import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIndexName } from '#shared/adapters/pgvector/schema.ts';
import {
  cappedCountStatement,
  createPgVectorStore,
  type SearchPlan,
  searchStatement,
} from '#shared/adapters/pgvector/vector-store.ts';
import { embeddingSpaceName } from '#shared/adapters/vector-space.ts';
import { compile, type SqlFragment, sql } from '#shared/db/sql.ts';
import type { TenantId } from '#shared/domain/ids.ts';
import type { Database, Queryable } from '#shared/ports/database.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import { databaseKinds } from '#test/fixtures/databases.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { insertTestTenant } from '#test/fixtures/tenants.ts';

/**
 * Tenant-size-aware vector search on PGlite (the real PostgreSQL here has no pgvector): after ANALYZE,
 * with the planner pushed towards the HNSW index as hard as settings allow, a small tenant's search still
 * compares every one of its vectors, and a large tenant's goes through the index.
 */
const space: EmbeddingSpace = { provider: 'plans', model: `m-${randomUUID().slice(0, 8)}`, dimensions: 8 };
const EXACT_BELOW = 500;
const SMALL = 150;
const LARGE = 2_500;
const random = seededRandom(19);
const vector = () => Array.from({ length: space.dimensions }, () => random() * 2 - 1);

let db: Database;
let dispose: () => Promise<void>;
let small: TenantId;
let large: TenantId;
const vectorsOf = new Map<TenantId, { id: string; v: number[] }[]>();

/** `n` random points for a tenant, remembered as the brute-force search's truth. */
function randomPoints(tenant: TenantId, n: number) {
  const points = Array.from({ length: n }, () => ({
    id: randomUUID(),
    vector: vector(),
    sourceId: randomUUID(),
    sourceVersion: 1,
    chunkId: randomUUID(),
    tags: [],
  }));
  vectorsOf.set(
    tenant,
    points.map((p) => ({ id: p.chunkId, v: p.vector })),
  );
  return points;
}

async function addTenant(n: number): Promise<TenantId> {
  const id = await insertTestTenant(db);
  const store = createPgVectorStore(db);
  const points = randomPoints(id, n);
  for (let i = 0; i < points.length; i += 500) await store.upsert(id, space, points.slice(i, i + 500));
  return id;
}

const cosine = (a: readonly number[], b: readonly number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
};

const bruteForce = (tenant: TenantId, q: readonly number[], k: number) =>
  (vectorsOf.get(tenant) ?? [])
    .map((p) => ({ id: p.id, s: cosine(p.v, q) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((p) => p.id);

/** Everything that lets the planner avoid an index-ordered scan is switched off. */
async function pushTowardsHnsw(tx: Queryable) {
  await tx.query(sql`
    select set_config('enable_sort', 'off', true), set_config('enable_seqscan', 'off', true),
           set_config('enable_bitmapscan', 'off', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
}

async function explain(tenant: TenantId, statement: SqlFragment) {
  return db.withTenant(tenant, async (tx) => {
    await pushTowardsHnsw(tx);
    const rows = await tx.query<{ 'QUERY PLAN': string }>(sql`explain ${statement}`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

const planOf = (plan: SearchPlan, tenant: TenantId) =>
  explain(tenant, searchStatement(plan, tenant, space, vector(), { limit: 10 }));

beforeAll(async () => {
  const kind = databaseKinds().find((k) => k.name === 'pglite');
  if (!kind) throw new Error('no PGlite test database');
  ({ db, dispose } = await kind.create());
  small = await addTenant(SMALL);
  large = await addTenant(LARGE);
  await db.withSystem((tx) => tx.execScript('analyze chunk_vectors'));
}, 180_000);

afterAll(async () => dispose?.());

describe('pgvector search by tenant size (PGlite, after ANALYZE)', () => {
  it('when the planner is pushed towards the HNSW index, then the index-ordered statement uses it (the test can fail)', async () => {
    expect(await planOf('hnsw', small)).toMatch(/chunk_vectors_hnsw_/);
  });

  it('when a tenant is below the threshold, then its statement cannot use the HNSW index whatever the planner prefers', async () => {
    const plan = await planOf('exact', small);
    expect(plan).not.toMatch(/hnsw/i);
    expect(plan).toMatch(/CTE scored/);
  });

  it('when a small tenant searches, then the store returns exactly the brute-force top 10', async () => {
    const store = createPgVectorStore(db, { exactSearchBelow: EXACT_BELOW });
    for (let i = 0; i < 20; i++) {
      const q = vector();
      const hits = await store.search(small, space, q, { limit: 10 });
      expect(hits.map((h) => h.chunkId)).toEqual(bruteForce(small, q, 10));
      for (const h of hits) expect(vectorsOf.get(small)?.some((p) => p.id === h.chunkId)).toBe(true);
    }
  });

  it('when the size is counted, then the count stops at the cap, so a large tenant costs no more than the threshold', async () => {
    const count = (tenant: TenantId) =>
      db.withTenant(tenant, (tx) =>
        tx.query<{ n: number }>(cappedCountStatement(tenant, space, EXACT_BELOW)),
      );
    expect((await count(small))[0]?.n).toBe(SMALL);
    expect((await count(large))[0]?.n).toBe(EXACT_BELOW);
  });

  it('when a large tenant searches, then the store takes the HNSW path and still returns only its own vectors', async () => {
    const statements: string[] = [];
    const watched: Database = {
      ...db,
      withTenant: (tenant, fn) =>
        db.withTenant(tenant, (tx) =>
          fn({
            query: (fragment) => {
              statements.push(compile(fragment).text);
              return tx.query(fragment);
            },
          }),
        ),
    };
    const store = createPgVectorStore(watched, { exactSearchBelow: EXACT_BELOW });
    const own = new Set((vectorsOf.get(large) ?? []).map((p) => p.id));
    let found = 0;
    for (let i = 0; i < 10; i++) {
      const q = vector();
      const hits = await store.search(large, space, q, { limit: 10 });
      expect(hits.length).toBe(10);
      for (const h of hits) expect(own.has(h.chunkId)).toBe(true);
      const truth = new Set(bruteForce(large, q, 10));
      found += hits.filter((h) => truth.has(h.chunkId)).length;
    }
    expect(statements.some((t) => /materialized/.test(t))).toBe(false);
    expect(statements.some((t) => /hnsw\.iterative_scan/.test(t))).toBe(true);
    // Approximate, but on 2,500 random 8-dim vectors the graph finds nearly all true neighbours.
    expect(found / 100).toBeGreaterThan(0.8);
  });

  it('when a tenant reaches the threshold, then it gets an HNSW index of its own, which its index-ordered search takes over the shared one', async () => {
    const own = await insertTestTenant(db);
    const store = createPgVectorStore(db, { exactSearchBelow: EXACT_BELOW });
    const indexName = tenantIndexName(embeddingSpaceName(space), own);
    const indexExists = async () =>
      (
        await db.withSystem((tx) =>
          tx.query(
            sql`select 1 from pg_indexes where tablename = 'chunk_vectors' and indexname = ${indexName}`,
          ),
        )
      ).length === 1;
    const points = randomPoints(own, EXACT_BELOW + 100);
    await store.upsert(own, space, points.slice(0, EXACT_BELOW - 100));
    expect(await indexExists()).toBe(false);
    await store.upsert(own, space, points.slice(EXACT_BELOW - 100));
    expect(await indexExists()).toBe(true);
    // The small tenant never got one.
    expect(await planOf('hnsw', small)).not.toContain(tenantIndexName(embeddingSpaceName(space), small));

    await db.withSystem((tx) => tx.execScript('analyze chunk_vectors'));
    expect(await planOf('hnsw', own)).toContain(indexName);
    let found = 0;
    for (let i = 0; i < 20; i++) {
      const q = vector();
      const hits = await store.search(own, space, q, { limit: 10 });
      const truth = new Set(bruteForce(own, q, 10));
      found += hits.filter((h) => truth.has(h.chunkId)).length;
    }
    expect(found / 200).toBeGreaterThanOrEqual(0.95);
  });
});
