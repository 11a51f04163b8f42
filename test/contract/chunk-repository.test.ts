import { describe, expect, it } from 'vitest';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as chunks from '#shared/repositories/chunks.ts';
import * as sources from '#shared/repositories/sources.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

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

  const newSource = async (tags: string[] = []) =>
    (
      await asA((tx) =>
        sources.insertSource(tx, a, {
          id: newId(),
          title: 'Doc',
          type: 'text',
          url: null,
          tags,
          metadata: {},
          content: null,
          contentType: null,
          contentHash: null,
        }),
      )
    ).id;

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
});
