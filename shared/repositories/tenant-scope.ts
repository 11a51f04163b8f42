import { sql } from '../db/sql.ts';
import type { Queryable } from '../ports/database.ts';

/**
 * Scopes the rest of the current transaction to one tenant (transaction-local `app.tenant_id`). Used
 * where the tenant is learnt inside the transaction: after resolving an API token, or by the platform
 * admin creating a tenant and its first rows atomically.
 */
export async function enterTenant(tx: Queryable, tenantId: string): Promise<void> {
  await tx.query(sql`select set_config('app.tenant_id', ${tenantId}, true)`);
}
