import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { scopeStatement } from '../../db/scope-statement.ts';
import { compile, type SqlFragment, sql } from '../../db/sql.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Database, Queryable, SystemQueryable } from '../../ports/database.ts';
import { decodeRecords } from './records.ts';
import { callWithResume } from './resume.ts';
import { splitStatements } from './split-statements.ts';

export interface DataApiDatabaseOptions {
  /** The Aurora cluster's ARN (DATABASE_CLUSTER_ARN). */
  readonly resourceArn: string;
  /** The cluster's credentials secret (DATABASE_SECRET_ARN); the Data API reads it, the function never does. */
  readonly secretArn: string;
  readonly database: string;
  /** Schema to use (tests make one per file); set as the transaction's search_path. */
  readonly schema?: string;
  readonly client?: RDSDataClient;
  /**
   * How long one call may wait for a paused cluster to resume. API Gateway gives a request 30 s, so the API
   * waits up to 20 s and then answers 503 with Retry-After.
   */
  readonly resumeBudgetMs?: number;
}

/**
 * Database adapter on the RDS Data API: SQL over HTTPS with IAM, no connections to pool, no VPC — what lets a
 * serverless deployment's Aurora cluster pause when idle.
 *
 * The Data API types every string parameter as `varchar`, so `uuid = :id` or a jsonb column would refuse it.
 * Instead of guessing types from JS values, each statement's parameter types are asked of PostgreSQL once per
 * container (`PREPARE` + `pg_prepared_statements`, inside the same transaction) and every placeholder becomes
 * `CAST(:pN AS <that type>)` with the value sent as text: exactly the types the statement would get over the
 * wire protocol.
 */
export function createDataApiDatabase(options: DataApiDatabaseOptions): Database {
  const client = options.client ?? new RDSDataClient({});
  const target = {
    resourceArn: options.resourceArn,
    secretArn: options.secretArn,
    database: options.database,
  };
  const budget = options.resumeBudgetMs ?? 20_000;
  const parameterTypes = new Map<string, string[]>();

  const execute = (sqlText: string, transactionId: string, parameters: SqlParameter[] = []) =>
    callWithResume(
      () =>
        client.send(
          new ExecuteStatementCommand({
            ...target,
            sql: sqlText,
            parameters,
            transactionId,
            includeResultMetadata: true,
          }),
        ),
      budget,
    );

  async function typesOf(text: string, transactionId: string): Promise<string[]> {
    const known = parameterTypes.get(text);
    if (known) return known;
    // A name of our own: the statement is deallocated before anything else runs in this transaction.
    await execute(`prepare minirag_parameter_probe as ${text}`, transactionId);
    const out = await execute(
      `select parameter_types::text[] as types from pg_prepared_statements where name = 'minirag_parameter_probe'`,
      transactionId,
    );
    await execute('deallocate minirag_parameter_probe', transactionId);
    const [row] = decodeRecords<{ types: string[] }>(out);
    const types = row?.types ?? [];
    parameterTypes.set(text, types);
    return types;
  }

  function queryable(transactionId: string): SystemQueryable {
    return {
      async query<T>(fragment: SqlFragment): Promise<T[]> {
        const { text, params } = compile(fragment);
        if (params.length === 0) return decodeRecords<T>(await execute(text, transactionId));
        const types = await typesOf(text, transactionId);
        const sqlText = text.replace(/\$(\d+)/g, (_, n: string) => `CAST(:p${n} AS ${types[Number(n) - 1]})`);
        const parameters = params.map((value, i) => parameter(`p${i + 1}`, value, types[i] ?? 'text'));
        return decodeRecords<T>(await execute(sqlText, transactionId, parameters));
      },
      async execScript(script: string): Promise<void> {
        // The Data API runs one statement per call.
        for (const statement of splitStatements(script)) await execute(statement, transactionId);
      },
    };
  }

  async function transaction<T>(fn: (tx: SystemQueryable) => Promise<T>): Promise<T> {
    const { transactionId } = await callWithResume(
      () => client.send(new BeginTransactionCommand(target)),
      budget,
    );
    if (!transactionId) throw new Error('the Data API began a transaction without an id');
    try {
      const tx = queryable(transactionId);
      if (options.schema) await tx.query(sqlSearchPath(options.schema));
      const result = await fn(tx);
      await client.send(new CommitTransactionCommand({ ...target, transactionId }));
      return result;
    } catch (error) {
      await client.send(new RollbackTransactionCommand({ ...target, transactionId })).catch(() => {});
      throw error;
    }
  }

  async function scoped<T>(settings: Record<string, string>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return transaction(async (tx) => {
      await tx.query(scopeStatement(settings));
      return fn(tx);
    });
  }

  return {
    kind: 'postgres',
    withTenant: <T>(tenantId: TenantId, fn: (tx: Queryable) => Promise<T>) =>
      scoped({ 'app.tenant_id': tenantId }, fn),
    withSettings: scoped,
    withSystem: transaction,
    close: async () => client.destroy(),
  };
}

function sqlSearchPath(schema: string): SqlFragment {
  return sql`select set_config('search_path', ${schema}, true)`;
}

/** A value as text for `CAST(:name AS type)`: arrays as array literals, JSON as JSON, dates as ISO 8601. */
export function parameter(name: string, value: unknown, type: string): SqlParameter {
  if (value === null || value === undefined) return { name, value: { isNull: true } };
  if (value instanceof Uint8Array) return { name, value: { blobValue: value } };
  return { name, value: { stringValue: asText(value, type) } };
}

function asText(value: unknown, type: string): string {
  if (type === 'json' || type === 'jsonb') return typeof value === 'string' ? value : JSON.stringify(value);
  if (type.endsWith('[]') && Array.isArray(value)) return arrayLiteral(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function arrayLiteral(values: readonly unknown[]): string {
  const items = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = v instanceof Date ? v.toISOString() : String(v);
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}
