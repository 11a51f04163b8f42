import { describe, expect, it } from 'vitest';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as chunks from '#shared/repositories/chunks.ts';
import * as sources from '#shared/repositories/sources.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { insertBareSource } from '#test/fixtures/sources.ts';
import { insertTestTenant, type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The chunks repository: a version's chunks replace the source's others (in batches), they are counted and
 * found for the current version only, full-text search honours the tags, and another tenant sees none.
 */

const chunk = (ordinal: number, content = `chunk number ${ordinal}`): chunks.NewChunk => ({
  id: newId(),
  ordinal,
  content,
  startOffset: ordinal * 10,
  endOffset: ordinal * 10 + 9,
  tokenCount: 3,
});

describe.each(databaseKinds())('chunks repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));

  const newSource = async (tags: string[] = []) => (await asA((tx) => insertBareSource(tx, a, { tags }))).id;

  it("when a version's chunks are written then the source's other versions are gone, and 501 chunks go in batches", async () => {
    const source = await newSource();
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 1, [chunk(0), chunk(1), chunk(2)]));
    expect(await asA((tx) => chunks.countSourceChunks(tx, a, source))).toBe(3);
    const many = Array.from({ length: 501 }, (_, i) => chunk(i));
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 2, many));
    expect(await asA((tx) => chunks.countSourceChunks(tx, a, source))).toBe(501);
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 3, []));
    expect(await asA((tx) => chunks.countSourceChunks(tx, a, source))).toBe(0);
    expect(await db.withTenant(b, (tx) => chunks.countSourceChunks(tx, b, source))).toBe(0);
  });

  it('when chunks are found by id then only those of the current version come back, with their source; none for another tenant', async () => {
    const source = await newSource();
    const first = chunk(0, 'the first chunk');
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 1, [first]));
    expect(await asA((tx) => chunks.findChunks(tx, a, [first.id, newId()]))).toEqual([
      { ...first, sourceId: source, sourceVersion: 1, sourceTitle: 'Doc', sourceUrl: null },
    ]);
    expect(await asA((tx) => chunks.findChunks(tx, a, []))).toEqual([]);
    expect(await db.withTenant(b, (tx) => chunks.findChunks(tx, b, [first.id]))).toEqual([]);
    expect(await asA((tx) => chunks.findChunks(tx, b, [first.id]))).toEqual([]);
    await asA((tx) => sources.bumpSourceVersion(tx, a, source));
    expect(await asA((tx) => chunks.findChunks(tx, a, [first.id]))).toEqual([]);
  });

  it('when full-text search is given tags then only chunks of sources carrying one of them are found', async () => {
    const [hr, eng] = [await newSource(['hr']), await newSource(['eng'])];
    const [inHr, inEng] = [chunk(0, 'parental leave policy'), chunk(0, 'parental leave for engineers')];
    await asA((tx) => chunks.replaceSourceChunks(tx, a, hr, 1, [inHr]));
    await asA((tx) => chunks.replaceSourceChunks(tx, a, eng, 1, [inEng]));
    const found = (tags?: string[]) =>
      asA((tx) => chunks.searchChunksFullText(tx, a, 'parental leave', { limit: 10, tags })).then((rows) =>
        rows.map((r) => r.id).sort(),
      );
    expect(await found()).toEqual([inHr.id, inEng.id].sort());
    expect(await found(['hr'])).toEqual([inHr.id]);
    expect(await found(['legal'])).toEqual([]);
    expect(
      await db.withTenant(b, (tx) => chunks.searchChunksFullText(tx, b, 'parental leave', { limit: 10 })),
    ).toEqual([]);
  });
  it('when a title weight is negative, not a number or infinite then RangeError, before any SQL runs', async () => {
    for (const titleWeight of [-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(
        asA((tx) => chunks.searchChunksFullText(tx, a, 'leave', { limit: 5, titleWeight })),
      ).rejects.toThrow(new RangeError('titleWeight must be ≥ 0'));
    }
    for (const titleWeight of [0, 0.5, 2]) {
      await expect(
        asA((tx) => chunks.searchChunksFullText(tx, a, 'leave', { limit: 5, titleWeight })),
      ).resolves.toEqual(expect.any(Array));
    }
  });

  it("when a chunk's words are read for feedback then its title field counts with the title weight, and not at all at 0", async () => {
    const source = await newSource();
    const headed = { ...chunk(0, 'zebra crossing'), sectionHeading: 'Safety rules' };
    const plain = chunk(1, 'zebra crossing');
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 1, [headed, plain]));
    const words = async (titleWeight: number) => {
      const found = await asA((tx) => chunks.chunkTermFrequencies(tx, a, [headed.id, plain.id], titleWeight));
      return Object.fromEntries([...found].map(([id, terms]) => [id, Object.fromEntries(terms)]));
    };
    // The source title "Doc" and the heading are the title field; a chunk without a heading has the title only.
    expect(await words(0)).toEqual({
      [headed.id]: { zebra: 1, cross: 1 },
      [plain.id]: { zebra: 1, cross: 1 },
    });
    expect(await words(1)).toEqual({
      [headed.id]: { zebra: 1, cross: 1, doc: 1, safeti: 1, rule: 1 },
      [plain.id]: { zebra: 1, cross: 1, doc: 1 },
    });
    expect(await words(2)).toEqual({
      [headed.id]: { zebra: 1, cross: 1, doc: 2, safeti: 2, rule: 2 },
      [plain.id]: { zebra: 1, cross: 1, doc: 2 },
    });
    expect(await asA((tx) => chunks.chunkTermFrequencies(tx, a, [], 1))).toEqual(new Map());
    expect(await db.withTenant(b, (tx) => chunks.chunkTermFrequencies(tx, b, [headed.id], 1))).toEqual(
      new Map(),
    );
    expect(await asA((tx) => chunks.chunkTermFrequencies(tx, b, [headed.id], 1))).toEqual(new Map());
  });

  it("when the title weight is 0 then a word in other sources' titles does not count in its document frequency", async () => {
    // Two tenants alike but for two titles: at weight 0 the titles are not searched, so the rank is the same.
    const rankWith = async (otherTitle: string) => {
      const tenant = await insertTestTenant(db);
      const found = await db.withTenant(tenant, async (tx) => {
        const ids: string[] = [];
        for (const [title, text] of [
          ['Doc', 'quokka facts'],
          [otherTitle, 'unrelated text'],
          [otherTitle, 'more unrelated text'],
        ] as const) {
          const s = await insertBareSource(tx, tenant, { title });
          const c = chunk(0, text);
          await chunks.replaceSourceChunks(tx, tenant, s.id, 1, [c]);
          ids.push(c.id);
        }
        return {
          first: ids[0],
          hits: await chunks.searchChunksFullText(tx, tenant, 'quokka', { limit: 5, titleWeight: 0 }),
        };
      });
      expect(found.hits.map((h) => h.id)).toEqual([found.first]);
      return found.hits[0]!.rank;
    };
    expect(await rankWith('Quokka guide')).toBeCloseTo(await rankWith('Other guide'), 12);
  });
  it("when the title weight is above 0 then the title field adds to a chunk's length, which BM25 normalises by", async () => {
    const source = await newSource();
    const short = { ...chunk(0, 'walrus habitat'), sectionHeading: 'Notes' };
    const long = {
      ...chunk(1, 'walrus habitat'),
      sectionHeading: 'Field notes from seven arctic expeditions',
    };
    await asA((tx) => chunks.replaceSourceChunks(tx, a, source, 1, [short, long]));
    const ranks = async (titleWeight: number) =>
      Object.fromEntries(
        (await asA((tx) => chunks.searchChunksFullText(tx, a, 'walrus', { limit: 5, titleWeight }))).map(
          (h) => [h.id, h.rank],
        ),
      );
    const weighted = await ranks(1);
    expect(weighted[short.id]).toBeGreaterThan(weighted[long.id]!);
    const textOnly = await ranks(0);
    expect(textOnly[short.id]).toBeCloseTo(textOnly[long.id]!, 12);
  });
});
