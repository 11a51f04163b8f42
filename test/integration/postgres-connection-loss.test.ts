import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '#shared/adapters/postgres/database.ts';
import { sql } from '#shared/db/sql.ts';
import type { Database } from '#shared/ports/database.ts';

const url = process.env.DATABASE_URL;

/**
 * A server that ends a connection in the middle of a transaction (a failover, a restart, an administrator's
 * pg_terminate_backend) must fail that transaction and nothing else. The driver answers the failed statement
 * with a ROLLBACK written after the socket is gone; unpatched postgres.js 3.4.9 throws that write from a
 * setImmediate callback, an uncaught exception that ends the whole Lambda process (patches/ holds the fix).
 */
describe.skipIf(!url)(
  'postgres client: the server ends a connection mid-transaction (real PostgreSQL)',
  () => {
    const opened: Database[] = [];
    const uncaught: unknown[] = [];
    const unhandled: unknown[] = [];
    const recordUncaught = (error: unknown) => uncaught.push(error);
    const recordUnhandled = (reason: unknown) => unhandled.push(reason);

    function open(): Database {
      const db = createPostgresDatabase({ url: url!, maxConnections: 1, statementTimeoutMs: 5000 });
      opened.push(db);
      return db;
    }

    afterEach(async () => {
      process.off('uncaughtException', recordUncaught);
      process.off('unhandledRejection', recordUnhandled);
      await Promise.all(opened.splice(0).map((db) => db.close().catch(() => {})));
    });

    it('when the backend is terminated during a statement then that transaction fails with 503, no exception escapes, and the next transaction is answered', async () => {
      const app = open();
      const admin = open();
      uncaught.length = 0;
      unhandled.length = 0;
      process.on('uncaughtException', recordUncaught);
      process.on('unhandledRejection', recordUnhandled);

      let backendPid: number | undefined;
      const interrupted = app.withSystem(async (tx) => {
        const [row] = await tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        backendPid = row?.pid;
        await tx.query(sql`select pg_sleep(3)`);
      });
      const settled = interrupted.then(
        () => undefined,
        (error: unknown) => error,
      );
      while (backendPid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      const [terminated] = await admin.withSystem((tx) =>
        tx.query<{ done: boolean }>(sql`select pg_terminate_backend(${backendPid}) as done`),
      );
      expect(terminated?.done).toBe(true);

      const error = await settled;
      expect(error).toMatchObject({ status: 503 });
      // The driver's ROLLBACK for the failed statement is flushed on a later turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
      expect(unhandled).toEqual([]);

      const [row] = await app.withSystem((tx) =>
        tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`),
      );
      expect(row?.pid).toEqual(expect.any(Number));
      expect(row?.pid).not.toBe(backendPid);
    }, 15_000);
  },
);
