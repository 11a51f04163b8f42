import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteDatabase, PGLITE_SHARED_BUFFERS_MB } from '#shared/adapters/pglite/database.ts';
import { sql } from '#shared/db/sql.ts';

/**
 * The embedded database's own memory settings: a new data directory is created (initdb) outside this process
 * and opened with a small buffer pool, and an existing one opens as it was.
 */
describe('the PGlite data directory', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const sharedBuffers = async (db: Awaited<ReturnType<typeof createPgliteDatabase>>) =>
    (await db.withSystem((tx) => tx.query<{ shared_buffers: string }>(sql`show shared_buffers`)))[0]!
      .shared_buffers;

  it('when a new directory is opened then it is created, keeps its rows, and runs with the small buffer pool', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'minirag-pglite-')), 'pgdata');
    dirs.push(dataDir);
    const created = await createPgliteDatabase({ dataDir });
    expect(await sharedBuffers(created)).toBe(`${PGLITE_SHARED_BUFFERS_MB}MB`);
    await created.withSystem((tx) =>
      tx.execScript('create table kept (n int); insert into kept values (7);'),
    );
    await created.close();

    const reopened = await createPgliteDatabase({ dataDir, sharedBuffersMb: 8 });
    expect(await sharedBuffers(reopened)).toBe('8MB');
    expect(await reopened.withSystem((tx) => tx.query<{ n: number }>(sql`select n from kept`))).toEqual([
      { n: 7 },
    ]);
    await reopened.close();
  });

  it('when the directory cannot be created then opening it fails with the reason', async () => {
    const dataDir = '/proc/minirag-no-such-place/pgdata';
    await expect(createPgliteDatabase({ dataDir })).rejects.toThrow(/Creating the database in/);
  });
});
