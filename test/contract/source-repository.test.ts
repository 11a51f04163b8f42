import { describe, expect, it } from 'vitest';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as sources from '#shared/repositories/sources.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { insertTestTenant as newTenant, type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The sources repository on every database: what each function returns, which rows its conditions
 * (version, status) let it touch, and that each one, called for another tenant, touches nothing — both
 * with the other tenant's transaction (row-level security) and with this tenant's transaction but the
 * other tenant's id (the explicit tenant condition).
 */

const text = (s: string) => new TextEncoder().encode(s);

describe.each([...databaseKinds(), ...dataApiKinds()])('sources repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));

  const insert = (tenant: TenantId, over: Partial<sources.NewSource> = {}) =>
    db.withTenant(tenant, (tx) =>
      sources.insertSource(tx, tenant, {
        id: newId(),
        title: 'Handbook',
        type: 'markdown',
        url: null,
        tags: ['hr'],
        metadata: { team: 'people' },
        content: text('# Hello'),
        contentType: 'text/markdown',
        contentHash: newId(),
        ...over,
      }),
    );

  it('when a source is inserted then every field comes back, with its size and defaults', async () => {
    const s = await insert(a, { title: 'T', tags: ['x', 'y'], content: text('12345') });
    expect(s).toMatchObject({
      tenantId: a,
      title: 'T',
      type: 'markdown',
      url: null,
      tags: ['x', 'y'],
      metadata: { team: 'people' },
      contentType: 'text/markdown',
      sizeBytes: 5,
      duplicateOf: null,
      uploadExpiresAt: null,
      version: 1,
      status: 'PENDING',
      error: null,
      chunkCount: 0,
      tokenCount: 0,
      processedAt: null,
    });
    expect(s.createdAt).toBeInstanceOf(Date);
    expect(await asA((tx) => sources.findSource(tx, a, s.id))).toEqual(s);
    const blob = await insert(a, { content: null, blobKey: 'blobs/k', byteSize: 1234 });
    expect(blob.sizeBytes).toBe(1234);
    expect(await asA((tx) => sources.loadSourceContent(tx, a, blob.id))).toEqual({
      content: null,
      blobKey: 'blobs/k',
    });
    const loaded = await asA((tx) => sources.loadSourceContent(tx, a, s.id));
    expect(loaded?.blobKey).toBeNull();
    expect(new TextDecoder().decode(loaded?.content ?? new Uint8Array())).toBe('12345');
  });

  it('when a source is looked up by its content hash then only that tenant finds it', async () => {
    const hash = newId();
    const s = await insert(a, { contentHash: hash });
    expect((await asA((tx) => sources.findSourceByHash(tx, a, hash)))?.id).toBe(s.id);
    expect(await asA((tx) => sources.findSourceByHash(tx, a, newId()))).toBeNull();
    expect(await db.withTenant(b, (tx) => sources.findSourceByHash(tx, b, hash))).toBeNull();
    expect(await asA((tx) => sources.findSourceByHash(tx, b, hash))).toBeNull();
  });

  it('when sources are listed then the status and tag filters apply, alone and together, and pages follow', async () => {
    const tenant = await newTenant(db);
    const made = [
      await insert(tenant, { tags: ['hr'] }),
      await insert(tenant, { tags: ['eng'] }),
      await insert(tenant, { tags: ['hr', 'eng'], status: 'AWAITING_UPLOAD' }),
    ];
    await insert(b, { tags: ['hr'] });
    const list = (filter: sources.SourceFilter, limit = 10, cursor?: string) =>
      db.withTenant(tenant, (tx) => sources.listSources(tx, tenant, filter, { limit, cursor }));
    const ids = async (filter: sources.SourceFilter) => (await list(filter)).data.map((s) => s.id).sort();
    expect(await ids({})).toEqual(made.map((s) => s.id).sort());
    expect(await ids({ tag: 'hr' })).toEqual([made[0]!.id, made[2]!.id].sort());
    expect(await ids({ status: 'AWAITING_UPLOAD' })).toEqual([made[2]!.id]);
    expect(await ids({ status: 'PENDING', tag: 'eng' })).toEqual([made[1]!.id]);
    expect(await ids({ tag: 'legal' })).toEqual([]);
    const first = await list({}, 2);
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await list({}, 2, first.nextCursor!);
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect([...first.data, ...second.data].map((s) => s.id).sort()).toEqual(made.map((s) => s.id).sort());
  });

  it('when a status is set then only the version the worker holds changes, and finishing stamps processed_at', async () => {
    const s = await insert(a);
    const set = (version: number, change: Parameters<typeof sources.setSourceStatus>[4]) =>
      asA((tx) => sources.setSourceStatus(tx, a, s.id, version, change));
    expect(await set(2, { status: 'PROCESSING' })).toBe(false);
    expect(await set(1, { status: 'PROCESSING' })).toBe(true);
    let now = await asA((tx) => sources.findSource(tx, a, s.id));
    expect(now).toMatchObject({ status: 'PROCESSING', processedAt: null, chunkCount: 0 });
    const other = await insert(a);
    expect(
      await set(1, { status: 'FAILED', error: 'dup', chunkCount: 4, tokenCount: 40, duplicateOf: other.id }),
    ).toBe(true);
    now = await asA((tx) => sources.findSource(tx, a, s.id));
    expect(now).toMatchObject({
      status: 'FAILED',
      error: 'dup',
      chunkCount: 4,
      tokenCount: 40,
      duplicateOf: other.id,
    });
    expect(now?.processedAt).toBeInstanceOf(Date);
    // Values not given are kept; the error is cleared unless given.
    const hash = newId();
    expect(await set(1, { status: 'COMPLETED', contentHash: hash })).toBe(true);
    now = await asA((tx) => sources.findSource(tx, a, s.id));
    expect(now).toMatchObject({
      status: 'COMPLETED',
      error: null,
      chunkCount: 4,
      tokenCount: 40,
      contentHash: hash,
    });
    const completed = await insert(a);
    await asA((tx) => sources.setSourceStatus(tx, a, completed.id, 1, { status: 'COMPLETED' }));
    expect((await asA((tx) => sources.findSource(tx, a, completed.id)))?.processedAt).toBeInstanceOf(Date);
    const pending = await insert(a);
    await asA((tx) => sources.setSourceStatus(tx, a, pending.id, 1, { status: 'PROCESSING' }));
    expect((await asA((tx) => sources.findSource(tx, a, pending.id)))?.processedAt).toBeNull();
  });

  it('when a source is re-ingested then its version moves on, back to PENDING with error and duplicate cleared; an awaited upload is not', async () => {
    const s = await insert(a);
    const other = await insert(a);
    await asA((tx) =>
      sources.setSourceStatus(tx, a, s.id, 1, { status: 'FAILED', error: 'x', duplicateOf: other.id }),
    );
    const bumped = await asA((tx) => sources.bumpSourceVersion(tx, a, s.id));
    expect(bumped).toMatchObject({ id: s.id, version: 2, status: 'PENDING', error: null, duplicateOf: null });
    const waiting = await insert(a, { status: 'AWAITING_UPLOAD' });
    expect(await asA((tx) => sources.bumpSourceVersion(tx, a, waiting.id))).toBeNull();
  });

  it('when an upload completes then an awaiting source becomes PENDING once; abandoned ones are found and removed only while awaiting', async () => {
    const tenant = await newTenant(db);
    const expires = new Date(Date.now() + 3_600_000);
    const older = await insert(tenant, { status: 'AWAITING_UPLOAD', uploadExpiresAt: expires });
    const newer = await insert(tenant, { status: 'AWAITING_UPLOAD', uploadExpiresAt: expires });
    const done = await insert(tenant);
    expect(older).toMatchObject({ status: 'AWAITING_UPLOAD', uploadExpiresAt: expires });
    const asT = <T>(fn: (tx: Parameters<Parameters<Database['withTenant']>[1]>[0]) => Promise<T>) =>
      db.withTenant(tenant, fn);
    const later = new Date(Date.now() + 60_000);
    expect(await asT((tx) => sources.findAbandonedUploads(tx, tenant, later, 10))).toEqual([
      older.id,
      newer.id,
    ]);
    expect(await asT((tx) => sources.findAbandonedUploads(tx, tenant, later, 1))).toEqual([older.id]);
    expect(await asT((tx) => sources.findAbandonedUploads(tx, tenant, new Date(0), 10))).toEqual([]);
    expect(await asT((tx) => sources.markUploadReceived(tx, tenant, newer.id))).toBe(true);
    expect(await asT((tx) => sources.markUploadReceived(tx, tenant, newer.id))).toBe(false);
    expect(await asT((tx) => sources.findSource(tx, tenant, newer.id))).toMatchObject({
      status: 'PENDING',
      uploadExpiresAt: null,
    });
    expect(await asT((tx) => sources.deleteAbandonedUpload(tx, tenant, done.id))).toBe(false);
    expect(await asT((tx) => sources.deleteAbandonedUpload(tx, tenant, newer.id))).toBe(false);
    expect(await asT((tx) => sources.deleteAbandonedUpload(tx, tenant, older.id))).toBe(true);
    expect(await asT((tx) => sources.findAbandonedUploads(tx, tenant, later, 10))).toEqual([]);
    expect(await asT((tx) => sources.findSource(tx, tenant, newer.id))).not.toBeNull();
  });

  it("when another tenant's id is used, by its own transaction or in this tenant's, then no source is seen or changed", async () => {
    const s = await insert(a, { status: 'AWAITING_UPLOAD' });
    const ready = await insert(a);
    const attempts = async (tenant: TenantId, run: typeof asA) => {
      expect(await run((tx) => sources.findSource(tx, tenant, s.id))).toBeNull();
      expect(await run((tx) => sources.loadSourceContent(tx, tenant, s.id))).toBeNull();
      expect(await run((tx) => sources.markUploadReceived(tx, tenant, s.id))).toBe(false);
      expect(await run((tx) => sources.bumpSourceVersion(tx, tenant, ready.id))).toBeNull();
      expect(await run((tx) => sources.setSourceStatus(tx, tenant, ready.id, 1, { status: 'FAILED' }))).toBe(
        false,
      );
      expect(
        await run((tx) => sources.findAbandonedUploads(tx, tenant, new Date(Date.now() + 60_000), 100)),
      ).not.toContain(s.id);
      expect(await run((tx) => sources.deleteAbandonedUpload(tx, tenant, s.id))).toBe(false);
      expect(await run((tx) => sources.deleteSource(tx, tenant, ready.id))).toBe(false);
      const listed = await run((tx) => sources.listSources(tx, tenant, {}, { limit: 100 }));
      expect(listed.data.map((x) => x.id)).not.toContain(ready.id);
    };
    await attempts(b, (fn) => db.withTenant(b, fn));
    await attempts(b, asA);
    expect(await asA((tx) => sources.findSource(tx, a, ready.id))).toMatchObject({
      version: 1,
      status: 'PENDING',
    });
    expect(await asA((tx) => sources.findSource(tx, a, s.id))).toMatchObject({ status: 'AWAITING_UPLOAD' });
    expect(await asA((tx) => sources.deleteSource(tx, a, ready.id))).toBe(true);
    expect(await asA((tx) => sources.findSource(tx, a, ready.id))).toBeNull();
    expect(await asA((tx) => sources.deleteSource(tx, a, ready.id))).toBe(false);
  });
});
