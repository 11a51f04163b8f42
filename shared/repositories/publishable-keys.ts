import { sql } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';
import type { PublishableKey } from '../domain/publishable-key.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface KeyRow {
  id: string;
  tenant_id: string;
  bot_id: string;
  name: string | null;
  prefix: string;
  allowed_origins: string[];
  per_visitor_per_minute: number | null;
  per_key_per_minute: number | null;
  monthly_token_budget: number | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

const toKey = (r: KeyRow): PublishableKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  botId: r.bot_id,
  name: r.name,
  prefix: r.prefix,
  allowedOrigins: r.allowed_origins,
  perVisitorPerMinute: r.per_visitor_per_minute,
  perKeyPerMinute: r.per_key_per_minute,
  monthlyTokenBudget: r.monthly_token_budget,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
});

// Never select key_hash back out: nothing after creation needs it.
const COLUMNS = sql`id, tenant_id, bot_id, name, prefix, allowed_origins, per_visitor_per_minute,
  per_key_per_minute, monthly_token_budget, revoked_at, last_used_at, created_at`;

export async function insertPublishableKey(
  tx: Queryable,
  tenantId: TenantId,
  k: {
    id: string;
    botId: string;
    name: string | null;
    prefix: string;
    hash: string;
    allowedOrigins: readonly string[];
    perVisitorPerMinute: number | null;
    perKeyPerMinute: number | null;
    monthlyTokenBudget: number | null;
  },
): Promise<PublishableKey> {
  const [row] = await tx.query<KeyRow>(sql`
    insert into publishable_keys (id, tenant_id, bot_id, name, prefix, key_hash, allowed_origins,
                                  per_visitor_per_minute, per_key_per_minute, monthly_token_budget)
    values (${k.id}, ${tenantId}, ${k.botId}, ${k.name}, ${k.prefix}, ${k.hash}, ${[...k.allowedOrigins]}::text[],
            ${k.perVisitorPerMinute}, ${k.perKeyPerMinute}, ${k.monthlyTokenBudget})
    returning ${COLUMNS}`);
  return toKey(row!);
}

/** Runs under `withSettings({ 'app.publishable_key_hash': hash })`: RLS shows only the matching row. */
export async function findPublishableKeyByHash(tx: Queryable, hash: string): Promise<PublishableKey | null> {
  const [row] = await tx.query<KeyRow>(sql`select ${COLUMNS} from publishable_keys where key_hash = ${hash}`);
  return row ? toKey(row) : null;
}

export async function findPublishableKey(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
): Promise<PublishableKey | null> {
  const [row] = await tx.query<KeyRow>(
    sql`select ${COLUMNS} from publishable_keys where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? toKey(row) : null;
}

export async function listPublishableKeys(
  tx: Queryable,
  tenantId: TenantId,
  botId: string,
  page: PageRequest,
): Promise<Page<PublishableKey>> {
  const rows = await tx.query<KeyRow>(sql`
    select ${COLUMNS} from publishable_keys where tenant_id = ${tenantId} and bot_id = ${botId}
    ${afterCursor(page.cursor)} order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toKey), page.limit);
}

export async function revokePublishableKey(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(sql`
    update publishable_keys set revoked_at = coalesce(revoked_at, now())
    where tenant_id = ${tenantId} and id = ${id} returning id`);
  return rows.length > 0;
}

/** Last-used time with minute resolution: at most one write per key per minute. */
export async function touchPublishableKey(tx: Queryable, tenantId: TenantId, id: string): Promise<void> {
  await tx.query(sql`
    update publishable_keys set last_used_at = now()
    where tenant_id = ${tenantId} and id = ${id}
      and (last_used_at is null or last_used_at < now() - interval '1 minute')`);
}

/** Tokens the key's visitors used this calendar month (UTC): what the key's budget is checked against. */
export async function keyTokensThisMonth(
  tx: Queryable,
  tenantId: TenantId,
  keyId: string,
  now: Date,
): Promise<number> {
  const [row] = await tx.query<{ n: number }>(sql`
    select coalesce(sum(input_tokens + output_tokens), 0)::int as n from usage_events
    where tenant_id = ${tenantId} and publishable_key_id = ${keyId}
      and created_at >= date_trunc('month', ${now}::timestamptz at time zone 'UTC') at time zone 'UTC'`);
  return row?.n ?? 0;
}

/**
 * Chat requests of the last minute through a key (or one visitor of it): answers recorded plus requests
 * admitted and not yet settled, and when the oldest of them leaves the minute.
 */
export async function recentPublicRequests(
  tx: Queryable,
  tenantId: TenantId,
  scope: { keyId: string; visitorId?: string },
): Promise<{ count: number; oldest: Date | null }> {
  const visitor = scope.visitorId ? sql` and visitor_id = ${scope.visitorId}` : sql``;
  const [row] = await tx.query<{ count: number; oldest: Date | null }>(sql`
    select count(*)::int as count, min(at) as oldest from (
      select created_at as at from usage_events
      where tenant_id = ${tenantId} and publishable_key_id = ${scope.keyId} and kind = 'chat'
        and created_at > now() - interval '1 minute' ${visitor}
      union all
      select created_at as at from quota_reservations
      where tenant_id = ${tenantId} and publishable_key_id = ${scope.keyId} and expires_at > now() ${visitor}
    ) recent`);
  return { count: row?.count ?? 0, oldest: row?.oldest ?? null };
}

/** Tokens held by the key's requests admitted and not yet settled. */
export async function openKeyReservationTokens(
  tx: Queryable,
  tenantId: TenantId,
  keyId: string,
): Promise<number> {
  const [row] = await tx.query<{ n: number }>(sql`
    select coalesce(sum(tokens), 0)::int as n from quota_reservations
    where tenant_id = ${tenantId} and publishable_key_id = ${keyId} and expires_at > now()`);
  return row?.n ?? 0;
}
