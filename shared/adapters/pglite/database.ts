import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { vector } from '@electric-sql/pglite-pgvector';
import { scopeStatement } from '../../db/scope-statement.ts';
import { compile, type SqlFragment } from '../../db/sql.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Database, Queryable, SystemQueryable } from '../../ports/database.ts';

export interface PgliteDatabaseOptions {
  /** Directory to persist into; in memory when omitted (tests). */
  readonly dataDir?: string;
  /** A data directory tarball (`dumpDataDir`) to start from instead of an empty cluster. */
  readonly loadDataDir?: Blob;
  /**
   * PostgreSQL's buffer pool, in MB (default PGLITE_SHARED_BUFFERS_MB). It lives in PGlite's WebAssembly memory
   * and is resident once touched, so it is most of what an idle embedded server holds.
   */
  readonly sharedBuffersMb?: number;
}

/**
 * 64 MB instead of PostgreSQL's 128 MB: an idle `npm start` holds ~50 MB less. Pages PGlite misses come from
 * the operating system's file cache, so a smaller pool costs copies, not disk reads; at 32 MB the exact scan
 * of a 10,000-vector tenant no longer fitted and got slower (docs/performance.md).
 */
export const PGLITE_SHARED_BUFFERS_MB = 64;

export interface PgliteDatabase extends Database {
  /** The whole data directory as a tarball, for `loadDataDir`. */
  dumpDataDir(): Promise<Blob>;
}

function queryable(tx: Transaction): SystemQueryable {
  return {
    async query<T>(fragment: SqlFragment): Promise<T[]> {
      const { text, params } = compile(fragment);
      const result = await tx.query<T>(text, params);
      return result.rows;
    },
    async execScript(script: string): Promise<void> {
      await tx.exec(script);
    },
  };
}

/**
 * Database adapter on PGlite (PostgreSQL compiled to WASM, with pgvector), for the embedded mode.
 * PGlite is a single connection: transactions run one at a time, which PGlite serialises itself.
 */
export async function createPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
  if (options.dataDir && !options.loadDataDir && !existsSync(join(options.dataDir, 'PG_VERSION'))) {
    await initDataDirInChild(options.dataDir);
  }
  const pg = await PGlite.create(options.dataDir ?? 'memory://', {
    extensions: { vector, btree_gin },
    // Replaces the start parameters, so PGlite's own defaults (single-user mode, no parallel workers) come first.
    startParams: [
      ...PGlite.defaultStartParams,
      '-c',
      `shared_buffers=${options.sharedBuffersMb ?? PGLITE_SHARED_BUFFERS_MB}MB`,
    ],
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });

  async function scoped<T>(settings: Record<string, string>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return pg.transaction(async (tx) => {
      const scope = queryable(tx);
      await scope.query(scopeStatement(settings));
      return fn(scope);
    });
  }

  return {
    kind: 'pglite',
    withTenant: <T>(tenantId: TenantId, fn: (tx: Queryable) => Promise<T>) =>
      scoped({ 'app.tenant_id': tenantId }, fn),
    withSettings: scoped,
    withSystem: <T>(fn: (tx: SystemQueryable) => Promise<T>) => pg.transaction((tx) => fn(queryable(tx))),
    dumpDataDir: () => pg.dumpDataDir('none'),
    close: () => pg.close(),
  };
}

/**
 * Creates a new data directory (initdb) in a child process that then exits. PGlite runs initdb as a second
 * PostgreSQL instance and copies its files over as a tarball; in this process those would stay allocated
 * (WebAssembly memory, buffers, and the allocator's arenas they leave behind: 200–300 MB) until a garbage
 * collection that an idle server may not run for a long time, and some of it for good. Only a new data
 * directory pays this once; every later start opens the existing one.
 */
async function initDataDirInChild(dataDir: string): Promise<void> {
  // require.resolve finds the package's CommonJS build; the child imports its ESM twin beside it.
  const pglite = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('@electric-sql/pglite')
      .replace(/\.cjs$/, '.js'),
  ).href;
  const script = `
    const { PGlite } = await import(process.argv[1]);
    const pg = await PGlite.create(process.argv[2]);
    await pg.close();`;
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, pglite, dataDir],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`Creating the database in ${dataDir} failed: ${stderr || error.message}`))
          : resolve(),
    );
  });
}
