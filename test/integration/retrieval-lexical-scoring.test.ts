import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '#shared/db/migrate.ts';
import { sql } from '#shared/db/sql.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import {
  chunkTermFrequencies,
  queryTerms,
  replaceSourceChunks,
  searchChunksFullText,
} from '#shared/repositories/chunks.ts';
import { setSourceStatus } from '#shared/repositories/sources.ts';
import { RM3_DEFAULTS } from '#shared/usecases/answering/query-expansion.ts';
import { searchLexical } from '#shared/usecases/answering/retrieve-context.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { insertBareSource } from '#test/fixtures/sources.ts';

interface Doc {
  readonly title: string;
  readonly chunks: readonly { content: string; heading?: string }[];
}

/**
 * The title field (migration 011): a chunk's source title and section heading are weighted lexemes of its
 * `tsv`, which BM25F counts with the query's title weight; RM3 feedback expands a query from the top hits.
 * On PGlite and, with DATABASE_URL, on the real PostgreSQL server.
 */
describe.each(databaseKinds())('lexical scoring on $name', (kind) => {
  let t: TestDatabase;
  const chunkIds = new Map<string, string>();

  async function addTenant(docs: readonly Doc[]): Promise<TenantId> {
    const id = asTenantId(randomUUID());
    await t.superuser.withSystem((tx) =>
      tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${`t-${id}`}, ${'T'})`),
    );
    await t.db.withTenant(id, async (tx) => {
      for (const doc of docs) {
        const sourceId = randomUUID();
        await insertBareSource(tx, id, { id: sourceId, title: doc.title });
        await replaceSourceChunks(
          tx,
          id,
          sourceId,
          1,
          doc.chunks.map((c, ordinal) => {
            const chunkId = randomUUID();
            chunkIds.set(`${id}:${c.content}`, chunkId);
            return {
              id: chunkId,
              ordinal,
              content: c.content,
              startOffset: 0,
              endOffset: c.content.length,
              tokenCount: 10,
              ...(c.heading === undefined ? {} : { sectionHeading: c.heading }),
            };
          }),
        );
        await setSourceStatus(tx, id, sourceId, 1, {
          status: 'COMPLETED',
          chunkCount: doc.chunks.length,
          tokenCount: 10,
        });
      }
    });
    return id;
  }

  const idOf = (tenant: TenantId, content: string) => chunkIds.get(`${tenant}:${content}`);
  const search = (tenant: TenantId, query: string, titleWeight: number) =>
    t.db.withTenant(tenant, (tx) => searchChunksFullText(tx, tenant, query, { limit: 10, titleWeight }));

  let titled: TenantId;
  let other: TenantId;
  let feedback: TenantId;
  const filler = Array.from({ length: 8 }, (_, i) => ({
    title: `Note ${i}`,
    chunks: [{ content: `measurements of pressure at station ${i} on a cylinder` }],
  }));

  beforeAll(async () => {
    t = await kind.create();
    titled = await addTenant([
      // "nozzle" only in the title; the body says nothing of it.
      { title: 'Nozzle design', chunks: [{ content: 'the throat area and the exit pressure were varied' }] },
      // "nozzle" once in the body, in a chunk of the same length.
      { title: 'Wind tunnel log', chunks: [{ content: 'the nozzle was replaced' }] },
      // "diffuser" only in a section heading of a later chunk.
      {
        title: 'Report',
        chunks: [
          { content: 'introduction to the experiments', heading: '' },
          { content: 'losses were small at every setting', heading: 'Diffuser efficiency' },
        ],
      },
      { title: 'Diffuser notes', chunks: [{ content: 'a diffuser was fitted downstream of it' }] },
      ...filler,
    ]);
    // Another tenant whose titles and bodies are full of the same words: none of it may leak.
    other = await addTenant([
      { title: 'Nozzle nozzle nozzle', chunks: [{ content: 'nozzle flow in a nozzle' }] },
      { title: 'Diffuser', chunks: [{ content: 'diffuser diffuser ablation' }] },
    ]);
    // The two top hits for "shock" share "oblique", which a third text has without "shock".
    feedback = await addTenant([
      { title: 'A', chunks: [{ content: 'shock waves are oblique at the wedge, oblique and attached' }] },
      { title: 'B', chunks: [{ content: 'an oblique shock forms ahead of the ramp, oblique again' }] },
      { title: 'C', chunks: [{ content: 'oblique waves reflect from the wall of the inlet' }] },
      { title: 'D', chunks: [{ content: 'laminar flow over a flat plate at low speed' }] },
      ...filler,
    ]);
  }, 120_000);

  afterAll(async () => t?.dispose());

  it('when the title weight is 2, then a chunk whose source title names the word outranks one whose text does', async () => {
    const hits = await search(titled, 'nozzle', 2);
    expect(hits.map((h) => h.id)).toEqual([
      idOf(titled, 'the throat area and the exit pressure were varied'),
      idOf(titled, 'the nozzle was replaced'),
    ]);
  });

  it('when the title weight is 0, then only the text counts: a word only in a title finds nothing', async () => {
    const hits = await search(titled, 'nozzle', 0);
    expect(hits.map((h) => h.id)).toEqual([idOf(titled, 'the nozzle was replaced')]);
  });

  it('when a chunk starts under a section heading, then the heading is part of its title field', async () => {
    const hits = await search(titled, 'diffuser efficiency', 2);
    expect(hits[0]?.id).toBe(idOf(titled, 'losses were small at every setting'));
    // The heading belongs to its own chunk only, not to the source's first chunk.
    expect(hits.map((h) => h.id)).not.toContain(idOf(titled, 'introduction to the experiments'));
  });

  it('when a tenant searches with the title field, then only its own chunks and statistics count', async () => {
    for (const weight of [0, 2]) {
      const hits = await search(titled, 'nozzle diffuser', weight);
      const own = new Set([...chunkIds].filter(([k]) => k.startsWith(`${titled}:`)).map(([, v]) => v));
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(own.has(h.id)).toBe(true);
    }
    // Term frequencies of another tenant's chunk cannot be read by naming its id.
    const foreign = idOf(other, 'nozzle flow in a nozzle')!;
    const read = await t.db.withTenant(titled, (tx) => chunkTermFrequencies(tx, titled, [foreign], 1));
    expect(read.size).toBe(0);
    const own = await t.db.withTenant(other, (tx) => chunkTermFrequencies(tx, other, [foreign], 1));
    // "nozzle": twice in the text and three times in the title (weight 1).
    expect(own.get(foreign)?.get('nozzl')).toBe(5);
  });

  it('when a tenant searches with feedback, then a text sharing the top hits’ words is found without the question’s word', async () => {
    const scoring = { titleWeight: 0, feedback: { ...RM3_DEFAULTS, docs: 2 } };
    const plain = await t.db.withTenant(feedback, (tx) =>
      searchLexical(tx, feedback, 'shock', { limit: 10, scoring: { titleWeight: 0, feedback: null } }),
    );
    const expanded = await t.db.withTenant(feedback, (tx) =>
      searchLexical(tx, feedback, 'shock', { limit: 10, scoring }),
    );
    const third = idOf(feedback, 'oblique waves reflect from the wall of the inlet');
    expect(plain.map((h) => h.id)).not.toContain(third);
    expect(expanded.map((h) => h.id).slice(0, 3)).toContain(third);
    // The other tenant's "oblique"-free texts are not found, nor anything of it.
    const own = new Set([...chunkIds].filter(([k]) => k.startsWith(`${feedback}:`)).map(([, v]) => v));
    for (const h of expanded) expect(own.has(h.id)).toBe(true);
  });

  it('when the question is given as weighted terms, then a weight scales its term’s score', async () => {
    const terms = await t.db.withTenant(titled, (tx) => queryTerms(tx, 'nozzle'));
    const once = await t.db.withTenant(titled, (tx) =>
      searchChunksFullText(tx, titled, terms, { limit: 10, titleWeight: 2 }),
    );
    const twice = await t.db.withTenant(titled, (tx) =>
      searchChunksFullText(tx, titled, new Map([['nozzl', 2]]), { limit: 10, titleWeight: 2 }),
    );
    expect(once).toEqual(await search(titled, 'nozzle', 2));
    expect(twice.map((h) => h.rank)).toEqual(once.map((h) => h.rank * 2));
  });
});

describe.each(databaseKinds())('migration 011 on $name', (kind) => {
  let t: TestDatabase | undefined;
  let before: string | undefined;

  afterAll(async () => {
    await t?.dispose();
    if (before) await rm(before, { recursive: true, force: true });
  });

  it('when chunks were stored before it, then they get their source title and are found by it', async () => {
    // A database migrated to 010 only, with a source and chunk written then; then the rest of the files.
    before = await mkdtemp(join(tmpdir(), 'minirag-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
      if (f < '011') await cp(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
    t = await kind.create({ migrations: before });
    const tenant = asTenantId(randomUUID());
    const sourceId = randomUUID();
    const chunkId = randomUUID();
    await t.superuser.withSystem(async (tx) => {
      await tx.query(sql`insert into tenants (id, slug, name) values (${tenant}, ${`t-${tenant}`}, 'T')`);
      await tx.query(sql`
        insert into sources (id, tenant_id, title, type, status, version)
        values (${sourceId}, ${tenant}, 'Supersonic inlets', 'text', 'COMPLETED', 1)`);
      await tx.query(sql`
        insert into chunks (id, tenant_id, source_id, source_version, ordinal, content, start_offset, end_offset, token_count)
        values (${chunkId}, ${tenant}, ${sourceId}, 1, 0, 'the ramp angle was varied', 0, 25, 6)`);
    });
    await migrate(t.db);
    const [row] = await t.superuser.withSystem((tx) =>
      tx.query<{ source_title: string }>(sql`select source_title from chunks where id = ${chunkId}`),
    );
    expect(row?.source_title).toBe('Supersonic inlets');
    // The stored lengths are the fields' distinct lexemes, as the weighted tsvector holds them.
    const [lengths] = await t.superuser.withSystem((tx) =>
      tx.query<{ text_lexemes: number; title_lexemes: number; d: number; a: number }>(sql`
        select text_lexemes, title_lexemes, length(ts_filter(tsv, '{d}')) as d, length(ts_filter(tsv, '{a}')) as a
        from chunks where id = ${chunkId}`),
    );
    expect(lengths).toEqual({ text_lexemes: 3, title_lexemes: 2, d: 3, a: 2 });
    const hits = await t.db.withTenant(tenant, (tx) =>
      searchChunksFullText(tx, tenant, 'inlet', { limit: 5, titleWeight: 1 }),
    );
    expect(hits.map((h) => h.id)).toEqual([chunkId]);
    const indexes = await t.superuser.withSystem((tx) =>
      tx.query<{ indexdef: string }>(
        sql`select indexdef from pg_indexes where tablename = 'chunks' and indexdef ilike '%gin%'`,
      ),
    );
    expect(indexes.map((r) => r.indexdef)).toEqual([expect.stringMatching(/gin \(tenant_id, tsv\)/)]);
  }, 120_000);
});
