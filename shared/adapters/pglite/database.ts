import { PGlite, type Transaction } from '@electric-sql/pglite';
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
}

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
  const pg = await PGlite.create(options.dataDir ?? 'memory://', {
    extensions: { vector },
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
