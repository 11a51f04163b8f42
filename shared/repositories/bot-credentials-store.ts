import { sql } from '../db/sql.ts';
import type { CredentialCursor, CredentialStore, StoredCredentials } from '../ports/credential-store.ts';
import type { Database } from '../ports/database.ts';
import type { Envelope } from '../ports/key-vault.ts';
import { enterTenant } from './tenant-scope.ts';

interface CredentialRow {
  id: string;
  tenant_id: string;
  credentials: Envelope;
}

/**
 * Key rotation's view of `bot_profiles`, across tenants (an operator command, as the schema owner).
 * `bot_profiles` forces row-level security even on its owner, so each tenant's rows are read and written
 * after entering that tenant inside the platform transaction; `tenants` itself is not forced, so the
 * owner can walk all of them.
 */
export function createBotCredentialStore(db: Database): CredentialStore {
  return {
    listAfter(cursor: CredentialCursor | null, limit: number): Promise<StoredCredentials[]> {
      return db.withSystem(async (tx) => {
        const tenants = cursor
          ? await tx.query<{ id: string }>(
              sql`select id from tenants where id >= ${cursor.tenantId} order by id`,
            )
          : await tx.query<{ id: string }>(sql`select id from tenants order by id`);
        const found: StoredCredentials[] = [];
        for (const { id: tenantId } of tenants) {
          if (found.length >= limit) break;
          await enterTenant(tx, tenantId);
          const afterId = cursor && cursor.tenantId === tenantId ? cursor.id : null;
          const rows = await tx.query<CredentialRow>(sql`
            select id, tenant_id, credentials from bot_profiles
            where tenant_id = ${tenantId} and credentials is not null
              and (${afterId}::uuid is null or id > ${afterId}::uuid)
            order by id
            limit ${limit - found.length}`);
          found.push(...rows.map((r) => ({ tenantId: r.tenant_id, id: r.id, credentials: r.credentials })));
        }
        return found;
      });
    },

    update(tenantId: string, id: string, old: Envelope, next: Envelope): Promise<boolean> {
      return db.withSystem(async (tx) => {
        await enterTenant(tx, tenantId);
        // Compare-and-swap: jsonb equality, so key order in the stored document does not matter.
        const rows = await tx.query<{ id: string }>(sql`
          update bot_profiles set credentials = ${next}::jsonb
          where tenant_id = ${tenantId} and id = ${id} and credentials = ${old}::jsonb
          returning id`);
        return rows.length === 1;
      });
    },
  };
}
