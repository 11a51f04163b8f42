import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import { replaceSourceChunks, searchChunksFullText } from '#shared/repositories/chunks.ts';
import { setSourceStatus } from '#shared/repositories/sources.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { insertBareSource } from '#test/fixtures/sources.ts';

/**
 * Migration 007: full text is restricted to the tenant inside one GIN index (btree_gin on tenant_id +
 * tsv), on PGlite and, with DATABASE_URL, on the real PostgreSQL server.
 */
describe.each(databaseKinds())('tenant-first full text on $name', (kind) => {
  let t: TestDatabase;
  const tenants: TenantId[] = [];

  async function addTenant(texts: readonly string[]): Promise<TenantId> {
    const id = asTenantId(randomUUID());
    await t.superuser.withSystem((tx) =>
      tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${`t-${id}`}, ${'T'})`),
    );
    await t.db.withTenant(id, async (tx) => {
      const sourceId = randomUUID();
      await insertBareSource(tx, id, { id: sourceId });
      await replaceSourceChunks(
        tx,
        id,
        sourceId,
        1,
        texts.map((content, ordinal) => ({
          id: randomUUID(),
          ordinal,
          content,
          startOffset: 0,
          endOffset: content.length,
          tokenCount: 10,
        })),
      );
      await setSourceStatus(tx, id, sourceId, 1, {
        status: 'COMPLETED',
        chunkCount: texts.length,
        tokenCount: 10,
      });
    });
    return id;
  }

  beforeAll(async () => {
    t = await kind.create();
    // Tenant 0 has "swept" in one chunk of 300; the others in every chunk: a word common in the table,
    // rare in the tenant, which is where an index without the tenant column reads the most other rows.
    const plain = Array.from({ length: 300 }, (_, i) => `boundary layer flow number ${i} over a flat plate`);
    tenants.push(await addTenant(['a swept wing', ...plain.slice(1)]));
    const swept = plain.map((text) => `${text} and a swept wing`);
    for (let i = 0; i < 3; i++) tenants.push(await addTenant(swept));
    tenants.push(await addTenant(['the boundary layer of a swept wing', 'heat transfer in hypersonic flow']));
    await t.superuser.withSystem((tx) => tx.execScript('analyze chunks'));
  }, 120_000);

  afterAll(async () => t?.dispose());

  it('when migrations ran, then btree_gin exists and one GIN index covers tenant_id and tsv', async () => {
    const rows = await t.superuser.withSystem((tx) =>
      tx.query<{ indexdef: string }>(
        sql`select indexdef from pg_indexes where tablename = 'chunks' and indexdef ilike '%gin%'`,
      ),
    );
    expect(rows.map((r) => r.indexdef)).toEqual([expect.stringMatching(/gin \(tenant_id, tsv\)/)]);
  });

  it('when the tenant btree is out of the picture, then one GIN index answers tenant and lexeme together', async () => {
    // On 1,200 rows the planner prefers the tenant btree (and assumes tenant and word independent), so the
    // btree is dropped inside a transaction that is rolled back; the bench shows the plan at 100k chunks.
    const tenant = tenants[0]!;
    // A plain term, and one restricted to the text's lexemes (weight D), as search without the title field
    // asks: the index cannot see weights, so it finds the candidates and the row check drops title matches.
    for (const query of [sql`to_tsquery('english', 'swept')`, sql`to_tsquery('simple', 'swept:D')`]) {
      let plan = '';
      await expect(
        t.superuser.withSystem(async (tx) => {
          await tx.execScript('drop index chunks_source_idx; set local enable_seqscan = off;');
          const rows = await tx.query<{ 'QUERY PLAN': string }>(sql`
            explain select id from chunks where tenant_id = ${tenant} and tsv @@ ${query}`);
          plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(plan).toMatch(/Bitmap Index Scan on chunks_tenant_tsv_idx/);
      expect(plan).toMatch(/Index Cond: \(\(tenant_id = .*\) AND \(tsv @@/s);
    }
    const [index] = await t.superuser.withSystem((tx) =>
      tx.query(sql`select 1 from pg_indexes where indexname = 'chunks_source_idx'`),
    );
    expect(index).toBeDefined();
  });

  it('when a tenant searches, then BM25 finds only its own chunks, best match first', async () => {
    const small = tenants.at(-1)!;
    const hits = await t.db.withTenant(small, (tx) =>
      searchChunksFullText(tx, small, 'boundary layer swept wing', { limit: 10 }),
    );
    expect(hits).toHaveLength(1);
    const [row] = await t.db.withTenant(small, (tx) =>
      tx.query<{ content: string }>(sql`select content from chunks where id = ${hits[0]!.id}`),
    );
    expect(row?.content).toBe('the boundary layer of a swept wing');
    // With the title field weighted, every chunk of its source ("Doc") matches the title word too, and
    // still no other tenant's.
    const titled = await t.db.withTenant(small, (tx) =>
      searchChunksFullText(tx, small, 'doc swept', { limit: 10, titleWeight: 2 }),
    );
    expect(titled).toHaveLength(2);
  });
});
