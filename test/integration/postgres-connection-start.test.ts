import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '#shared/adapters/postgres/database.ts';
import { sql } from '#shared/db/sql.ts';
import type { Database } from '#shared/ports/database.ts';
import { type FaultProxy, startFaultProxy } from '#test/fakes/fault-proxy.ts';

const url = process.env.DATABASE_URL;

/**
 * A connection that breaks while it starts must fail the request that needed it, and nothing else: an
 * unhandled rejection from the driver would end a Lambda process in the middle of a database outage.
 */
describe.skipIf(!url)('postgres client: faults while a new connection starts (real PostgreSQL)', () => {
  let proxy: FaultProxy | undefined;
  let db: Database | undefined;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);

  async function throughProxy(): Promise<{ proxy: FaultProxy; db: Database }> {
    const target = new URL(url!);
    proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.port = String(proxy.port);
    db = createPostgresDatabase({
      url: target.toString(),
      maxConnections: 1,
      connectTimeoutSeconds: 1,
      statementTimeoutMs: 1000,
    });
    unhandled.length = 0;
    process.on('unhandledRejection', record);
    return { proxy, db };
  }

  afterEach(async () => {
    // Give a stray rejection from the broken connection time to surface before the listener goes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.off('unhandledRejection', record);
    await db?.close().catch(() => {});
    await proxy?.close();
  });

  it('when a new connection starts then the driver sends no catalog query of its own before ours', async () => {
    const { proxy, db } = await throughProxy();
    // The driver's type fetch is the statement whose failure nobody could catch.
    proxy.resetWhenClientSends('pg_catalog.pg_type');
    const [row] = await db.withSystem((tx) => tx.query<{ one: number }>(sql`select 1 as one`));
    expect(row?.one).toBe(1);
    expect(proxy.clientText).not.toContain('pg_type');
    expect(unhandled).toEqual([]);
  });

  it('when a fresh connection is reset on its first statement then that request fails, the next ones recover, and nothing is left unhandled', async () => {
    const { proxy, db } = await throughProxy();
    proxy.resetWhenClientSends('select 2 as two');
    await expect(db.withSystem((tx) => tx.query(sql`select 2 as two`))).rejects.toThrow(/unavailable/);
    proxy.resetWhenClientSends('never sent');
    // The driver may spend one stall bound (2 s here) on the connection it reopens before the pool is
    // replaced; within a few seconds requests are answered again.
    const deadline = Date.now() + 6000;
    let three: number | undefined;
    while (three === undefined && Date.now() < deadline) {
      const rows = await db
        .withSystem((tx) => tx.query<{ three: number }>(sql`select 3 as three`))
        .catch(() => []);
      three = rows[0]?.three;
    }
    expect(three).toBe(3);
    expect(unhandled).toEqual([]);
  }, 15_000);

  it('when arrays go in and come out then every element survives, quotes, commas, braces and nulls included', async () => {
    const { db } = await throughProxy();
    const tags = [
      'plain',
      'with,comma',
      'with "quotes"',
      'back\\slash',
      '{braces}',
      'NULL',
      ' spaced ',
      'ünï',
      '',
    ];
    const ids = ['7d444840-9dc0-11d1-b245-5ffdce74fad2', '00000000-0000-4000-8000-000000000001'];
    const [row] = await db.withSystem((tx) =>
      tx.query<{ tags: string[]; ids: string[]; nulls: (string | null)[]; empty: string[]; hit: boolean }>(
        sql`select ${tags}::text[] as tags, ${ids}::uuid[] as ids, ${['a', null]}::text[] as nulls,
          ${[]}::text[] as empty, ${'with,comma'} = any(${tags}::text[]) as hit`,
      ),
    );
    expect(row).toEqual({ tags, ids, nulls: ['a', null], empty: [], hit: true });
  });

  it('when numeric and boolean arrays go in and come out then they keep their values and types', async () => {
    const { db } = await throughProxy();
    const [row] = await db.withSystem((tx) =>
      tx.query(
        sql`select ${[0.5, -1.25, 1e-9]}::float8[] as f8, ${[0.5, 0, 1]}::float4[] as f4, ${[1, -2, 3]}::int4[] as i4,
          array[true, false] as b, array['9007199254740993']::int8[] as i8,
          (select sum(x) from unnest(${[0.25, 0.75]}::float8[]) as x) as total`,
      ),
    );
    expect(row).toEqual({
      f8: [0.5, -1.25, 1e-9],
      f4: [0.5, 0, 1],
      i4: [1, -2, 3],
      b: [true, false],
      i8: ['9007199254740993'],
      total: 1,
    });
  });
});
