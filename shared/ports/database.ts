import type { SqlFragment } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';

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
