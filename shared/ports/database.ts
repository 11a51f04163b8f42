import type { TenantId } from '../domain/ids.ts';
import { joinSql, type SqlFragment, sql } from './sql.ts';

/** Something that runs parameterized SQL and returns plain row objects. */
export interface Queryable {
  query<T = Record<string, unknown>>(fragment: SqlFragment): Promise<T[]>;
}

/** The owner's view, for migrations: can also run a multi-statement script. */
export interface SystemQueryable extends Queryable {
  execScript(script: string): Promise<void>;
}

/**
 * The Database port. Two adapters implement it (porsager/postgres for servers and Lambda, PGlite for
 * the embedded mode); repositories are written once against `Queryable`.
 */
export interface Database {
  /**
   * Runs `fn` in one transaction as the non-owner application role with `app.tenant_id` set
   * transaction-locally, so row-level security confines every statement to that tenant.
   */
  withTenant<T>(tenantId: TenantId, fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction as the application role with extra transaction-local settings and no
   * tenant (used to resolve an API token by its hash before the tenant is known).
   */
  withSettings<T>(settings: Record<string, string>, fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction as the schema owner, outside tenant scope. Only platform-level code
   * uses it: migrations, the platform admin's tenant operations, the job-queue worker.
   */
  withSystem<T>(fn: (tx: SystemQueryable) => Promise<T>): Promise<T>;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** The role every tenant-scoped transaction runs as (created by the first migration). */
export const APP_ROLE = 'minirag_app';

/**
 * One statement that enters a scope: the application role plus transaction-local settings (one round
 * trip per transaction instead of one per setting). Both adapters run it first in `withTenant` and
 * `withSettings`; `true` = local to the transaction, so nothing survives on a pooled connection.
 */
export function scopeStatement(settings: Record<string, string>): SqlFragment {
  const assignments = [['role', APP_ROLE], ...Object.entries(settings)].map(
    ([name, value]) => sql`set_config(${name}, ${value}, true)`,
  );
  return sql`select ${joinSql(assignments, sql`, `)}`;
}
