import postgres from 'postgres';
import { scopeStatement } from '../../db/scope-statement.ts';
import { compile, type SqlFragment } from '../../db/sql.ts';
import { ServiceUnavailableError } from '../../domain/errors.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Database, Queryable, SystemQueryable } from '../../ports/database.ts';
import { unavailableOr } from '../transient-fault.ts';
import { arrayTypes } from './array-types.ts';
import { createStallWatch, type StallWatch } from './stall-watch.ts';

export interface PostgresDatabaseOptions {
  readonly url: string;
  /** Schema to use (tests make one per file); defaults to the server's search_path. */
  readonly schema?: string;
  readonly maxConnections?: number;
  /** How long opening a connection (or waiting for a free one) may take (default 3 s, plus 1 s). */
  readonly connectTimeoutSeconds?: number;
  /**
   * The server's `statement_timeout` for every connection (default 10 s). A statement still unanswered
   * a second after it is not slow but stalled (a dead network path): the transaction fails with a 503
   * and the pool is replaced, so the next request gets fresh connections.
   */
  readonly statementTimeoutMs?: number;
}

type Tx = postgres.TransactionSql;

function queryable(tx: Tx, watch: StallWatch): SystemQueryable {
  return {
    async query<T>(fragment: SqlFragment): Promise<T[]> {
      const { text, params } = compile(fragment);
      // `unsafe` here only means "text + bind parameters": the text comes from sql`` fragments and every
      // value is a parameter.
      const rows = await watch.statement(() => tx.unsafe(text, params as postgres.ParameterOrJSON<never>[]));
      return [...rows] as unknown as T[];
    },
    async execScript(script: string): Promise<void> {
      // Scripts are DDL (migrations, pgvector indexes) that may rightly run for minutes on a large table:
      // no statement timeout, and no stall watch.
      watch.check();
      await tx.unsafe(`set local statement_timeout = 0;\n${script}`);
    },
  };
}

/** Database adapter on porsager/postgres: PostgreSQL servers, RDS Proxy and Lambda. */
export function createPostgresDatabase(options: PostgresDatabaseOptions): Database {
  const connectTimeoutSeconds = options.connectTimeoutSeconds ?? 3;
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const stallMs = statementTimeoutMs + 1000;
  const newClient = () =>
    postgres(options.url, {
      max: options.maxConnections ?? 10,
      // RDS Proxy and PgBouncer pin sessions that use named prepared statements.
      prepare: false,
      onnotice: () => {},
      // No catalog query on each new connection: see array-types.ts.
      fetch_types: false,
      types: arrayTypes,
      connect_timeout: connectTimeoutSeconds,
      // Reconnect within half a second of the server's return (jittered), instead of the default back-off
      // that grows to 20 s between tries during an outage and so delays the recovery by as much.
      backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 0.5),
      connection: {
        ...(options.schema ? { search_path: options.schema } : {}),
        statement_timeout: statementTimeoutMs,
        // A client that vanished mid-transaction must not hold its locks for long.
        idle_in_transaction_session_timeout: Math.max(60_000, statementTimeoutMs * 6),
      },
    });
  let client = newClient();

  /** A statement stalled: its connection (and likely the others) leads nowhere. Start over with a new pool. */
  function replacePool(): void {
    const stalled = client;
    client = newClient();
    void stalled.end({ timeout: 0 }).catch(() => {});
  }

  async function transaction<T>(
    settings: Record<string, string> | undefined,
    fn: (tx: SystemQueryable) => Promise<T>,
  ): Promise<T> {
    const watch = createStallWatch({
      // Waiting for a free connection (or for a new one to open: postgres.js keeps a waiting query while it
      // retries a refused connection) is bounded by the connect timeout; a busy pool is not a broken one,
      // so that wait fails the request without replacing the pool.
      acquireMs: connectTimeoutSeconds * 1000 + 1000,
      stallMs,
      onStall: replacePool,
      error: () =>
        new ServiceUnavailableError(
          `The database did not answer within ${Math.ceil(stallMs / 1000)} s; try again in a few seconds.`,
        ),
    });
    const run = client.begin(async (tx) => {
      watch.acquired();
      const scope = queryable(tx, watch);
      if (settings) await scope.query(scopeStatement(settings));
      const result = await fn(scope);
      watch.committing();
      return result;
    });
    // Once the watch gave up, the transaction's own outcome has nobody left to hear it.
    run.catch(() => {});
    try {
      return (await Promise.race([run, watch.expired])) as T;
    } catch (error) {
      throw unavailableOr(error, 'database');
    } finally {
      watch.done();
    }
  }

  return {
    kind: 'postgres',
    withTenant: <T>(tenantId: TenantId, fn: (tx: Queryable) => Promise<T>) =>
      transaction({ 'app.tenant_id': tenantId }, fn),
    withSettings: transaction,
    withSystem: <T>(fn: (tx: SystemQueryable) => Promise<T>) => transaction(undefined, fn),
    close: () => client.end({ timeout: 5 }),
  };
}
