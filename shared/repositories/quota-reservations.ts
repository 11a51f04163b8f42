import { sql } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';

/**
 * Serialises quota admission for one tenant until the transaction ends: the next request's check waits
 * for this one's reservation to be committed, and then sees it. A transaction-scoped advisory lock takes
 * no table privilege and works on PGlite (which runs one transaction at a time anyway) and on servers.
 */
export async function lockTenantQuota(tx: Queryable, tenantId: TenantId): Promise<void> {
  await tx.query(sql`select pg_advisory_xact_lock(hashtextextended(${`minirag:quota:${tenantId}`}, 0))`);
}

/** Requests admitted and not yet settled, and the tokens they hold; expired reservations are dropped. */
export async function openReservations(
  tx: Queryable,
  tenantId: TenantId,
): Promise<{ requests: number; tokens: number }> {
  await tx.query(sql`delete from quota_reservations where tenant_id = ${tenantId} and expires_at <= now()`);
  const [row] = await tx.query<{ requests: number; tokens: number }>(sql`
    select count(*)::int as requests, coalesce(sum(tokens), 0)::int as tokens
    from quota_reservations where tenant_id = ${tenantId}`);
  return row ?? { requests: 0, tokens: 0 };
}

export async function insertReservation(
  tx: Queryable,
  tenantId: TenantId,
  r: {
    id: string;
    tokens: number;
    ttlSeconds: number;
    publishableKeyId?: string | null;
    visitorId?: string | null;
  },
): Promise<void> {
  await tx.query(sql`
    insert into quota_reservations (id, tenant_id, tokens, expires_at, publishable_key_id, visitor_id)
    values (${r.id}, ${tenantId}, ${r.tokens}, now() + ${r.ttlSeconds} * interval '1 second',
            ${r.publishableKeyId ?? null}, ${r.visitorId ?? null})`);
}

export async function deleteReservation(tx: Queryable, tenantId: TenantId, id: string): Promise<void> {
  await tx.query(sql`delete from quota_reservations where tenant_id = ${tenantId} and id = ${id}`);
}
