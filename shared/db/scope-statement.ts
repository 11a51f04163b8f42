import { joinSql, type SqlFragment, sql } from './sql.ts';

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
