import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgVectorStore } from '#shared/adapters/pgvector/vector-store.ts';
import { sql } from '#shared/db/sql.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import { pointId } from '#shared/domain/point-id.ts';
import type { Database } from '#shared/ports/database.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';
import type { VectorPoint, VectorStore } from '#shared/ports/vector-store.ts';
import { chunkTermFrequencies, findChunks, searchChunksFullText } from '#shared/repositories/chunks.ts';
import { RM3_DEFAULTS } from '#shared/usecases/answering/query-expansion.ts';
import { searchLexical } from '#shared/usecases/answering/retrieve-context.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  type IsolationLayer,
  openRowLevelSecurity,
  withoutTenantFilters,
} from '#test/fixtures/isolation-layers.ts';
import { seedEveryTable } from '#test/fixtures/tenants.ts';

/**
 * Retrieval with one layer of tenant isolation switched off at a time (the API routes get the same
 * treatment in the cross-tenant matrix): the pgvector store and the chunk queries behind hybrid search
 * must keep tenants apart with RLS opened up, and with their own tenant conditions dropped.
 */
const space: EmbeddingSpace = { provider: 'layers', model: 'm', dimensions: 4 };
const LAYERS: IsolationLayer[] = ['app filters alone', 'RLS alone'];
const embedded = databaseKinds()[0];

function points(tenantId: TenantId, sourceId: string, vectors: number[][]): VectorPoint[] {
  return vectors.map((vector, ordinal) => {
    const id = pointId(tenantId, sourceId, 1, ordinal);
    return { id, vector, sourceId, sourceVersion: 1, chunkId: id, tags: [] };
  });
}
const ids = (hits: readonly { id: string }[]) => hits.map((h) => h.id).sort();

describe.each(LAYERS)('tenant isolation in retrieval with %s', (layer) => {
  let database: TestDatabase;
  /** What the code under test runs on: the database with one layer switched off. */
  let appDb: Database;
  let dropped: { count: number } | undefined;
  let store: Required<VectorStore>;
  let a: TenantId;
  let b: TenantId;

  beforeAll(async () => {
    if (!embedded) throw new Error('no test database');
    database = await embedded.create();
    appDb = database.db;
    if (layer === 'RLS alone') {
      const filtered = withoutTenantFilters(database.db);
      dropped = filtered.dropped;
      appDb = filtered;
    }
    store = createPgVectorStore(appDb);
    await store.ensureSpace(space);
    if (layer === 'app filters alone') await openRowLevelSecurity(database.db);
    [a, b] = [asTenantId(randomUUID()), asTenantId(randomUUID())];
    for (const id of [a, b]) {
      await database.db.withSystem((tx) =>
        tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${id}, 'T')`),
      );
    }
  });
  afterAll(() => database?.dispose());

  it("when B searches with A's exact vector then it gets only its own points", async () => {
    const vector = [0.3, 0.4, 0.5, 0.6];
    const ofA = points(a, randomUUID(), [vector, [0.3, 0.4, 0.5, 0.61]]);
    const ofB = points(b, randomUUID(), [[-0.3, 0.4, 0.5, 0.6]]);
    await store.upsert(a, space, ofA);
    await store.upsert(b, space, ofB);
    expect(ids(await store.search(b, space, vector, { limit: 100 }))).toEqual(ids(ofB));
    expect(ids(await store.search(a, space, vector, { limit: 100 }))).toEqual(ids(ofA));
  });

  it("when B deletes or counts A's source then A's points are untouched and B counts none", async () => {
    const source = randomUUID();
    await store.upsert(
      a,
      space,
      points(a, source, [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ]),
    );
    expect(await store.countBySource(b, space, source)).toBe(0);
    await store.deleteBySource(b, space, source);
    await store.deleteBySource(b, space, source, { exceptVersion: 7 });
    expect(await store.countBySource(a, space, source)).toBe(2);
  });

  it("when B full-text searches for A's words or asks for A's chunk ids then it gets none of A's chunks", async () => {
    const ofA = await seedEveryTable(database.db, a);
    const ofB = await seedEveryTable(database.db, b);
    const [lexicalHits, byId] = await appDb.withTenant(b, async (tx) => [
      await searchChunksFullText(tx, b, 'seeded chunk text', { limit: 10 }),
      await findChunks(tx, b, [ofA.chunk, ofB.chunk]),
    ]);
    expect(lexicalHits.map((h) => h.id)).toEqual([ofB.chunk]);
    expect(byId.map((c) => c.id)).toEqual([ofB.chunk]);
    // The title field and RM3 feedback: three more statements, each with its own tenant condition.
    const [expanded, words] = await appDb.withTenant(b, async (tx) => [
      await searchLexical(tx, b, 'seeded chunk text', {
        limit: 10,
        scoring: { titleWeight: 2, feedback: RM3_DEFAULTS },
      }),
      await chunkTermFrequencies(tx, b, [ofA.chunk, ofB.chunk], 2),
    ]);
    expect(expanded.map((h) => h.id)).toEqual([ofB.chunk]);
    expect([...words.keys()]).toEqual([ofB.chunk]);
  });

  if (layer === 'RLS alone')
    it('when the run is over then the tenant conditions were really dropped', () => {
      // At least one per statement above: 2 searches, 2 counts, 2 deletes, 3 in the full-text query, 1 in
      // findChunks, 3 + 3 in the two searches with feedback and 1 reading the feedback hits' words.
      expect(dropped?.count).toBeGreaterThanOrEqual(17);
    });
});
