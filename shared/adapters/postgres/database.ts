import postgres from 'postgres';
import { scopeStatement } from '../../db/scope-statement.ts';
import { compile, type SqlFragment } from '../../db/sql.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Database, Queryable, SystemQueryable } from '../../ports/database.ts';

export interface PostgresDatabaseOptions {
  readonly url: string;
  /** Schema to use (tests make one per file); defaults to the server's search_path. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

type Tx = postgres.TransactionSql;

function queryable(tx: Tx): SystemQueryable {
  return {
    async query<T>(fragment: SqlFragment): Promise<T[]> {
      const { text, params } = compile(fragment);
      // `unsafe` here only means "text + bind parameters": the text comes from sql`` fragments and every
      // value is a parameter.
      const rows = await tx.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return [...rows] as unknown as T[];
    },
    async execScript(script: string): Promise<void> {
      await tx.unsafe(script);
    },
  };
}

/** Database adapter on porsager/postgres: PostgreSQL servers, RDS Proxy and Lambda. */
export function createPostgresDatabase(options: PostgresDatabaseOptions): Database {
  const client = postgres(options.url, {
    max: options.maxConnections ?? 10,
    // RDS Proxy and PgBouncer pin sessions that use named prepared statements.
    prepare: false,
    onnotice: () => {},
    connection: options.schema ? { search_path: options.schema } : {},
  });

  async function scoped<T>(settings: Record<string, string>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return (await client.begin(async (tx) => {
      const scope = queryable(tx);
      await scope.query(scopeStatement(settings));
      return fn(scope);
    })) as T;
  }

  return {
    kind: 'postgres',
    withTenant: <T>(tenantId: TenantId, fn: (tx: Queryable) => Promise<T>) =>
      scoped({ 'app.tenant_id': tenantId }, fn),
    withSettings: scoped,
    withSystem: async <T>(fn: (tx: SystemQueryable) => Promise<T>) =>
      (await client.begin((tx) => fn(queryable(tx)))) as T,
    close: () => client.end({ timeout: 5 }),
  };
}
