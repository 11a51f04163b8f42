import { sql } from '../db/sql.ts';
import type { ApiToken } from '../domain/api-token.ts';
import type { Role, Scope } from '../domain/auth-context.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface ApiTokenRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  name: string;
  prefix: string;
  scopes: Scope[];
  role: Role;
  is_service_account: boolean;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

const toApiToken = (r: ApiTokenRow): ApiToken => ({
  id: r.id,
  tenantId: r.tenant_id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes,
  role: r.role,
  isServiceAccount: r.is_service_account,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
});

// Never select token_hash back out: nothing after creation needs it.
const COLUMNS = sql`id, tenant_id, user_id, name, prefix, scopes, role, is_service_account, expires_at, revoked_at,
  last_used_at, created_at`;

export async function insertApiToken(
  tx: Queryable,
  tenantId: TenantId,
  t: {
    id: string;
    userId: string | null;
    name: string;
    prefix: string;
    hash: string;
    scopes: readonly Scope[];
    role: Role;
    isServiceAccount: boolean;
    expiresAt: Date | null;
  },
): Promise<ApiToken> {
  const [row] = await tx.query<ApiTokenRow>(sql`
    insert into api_tokens (id, tenant_id, user_id, name, prefix, token_hash, scopes, role, is_service_account, expires_at)
    values (${t.id}, ${tenantId}, ${t.userId}, ${t.name}, ${t.prefix}, ${t.hash}, ${[...t.scopes]}::text[], ${t.role},
            ${t.isServiceAccount}, ${t.expiresAt})
    returning ${COLUMNS}`);
  return toApiToken(row!);
}

/** Runs under `withSettings({ 'app.token_hash': hash })`: the RLS policy shows only the matching row. */
export async function findApiTokenByHash(tx: Queryable, hash: string): Promise<ApiToken | null> {
  const [row] = await tx.query<ApiTokenRow>(
    sql`select ${COLUMNS} from api_tokens where token_hash = ${hash}`,
  );
  return row ? toApiToken(row) : null;
}

export async function listApiTokens(
  tx: Queryable,
  tenantId: TenantId,
  page: PageRequest,
): Promise<Page<ApiToken>> {
  const rows = await tx.query<ApiTokenRow>(sql`
    select ${COLUMNS} from api_tokens where tenant_id = ${tenantId} ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toApiToken), page.limit);
}

export async function findApiToken(tx: Queryable, tenantId: TenantId, id: string): Promise<ApiToken | null> {
  const [row] = await tx.query<ApiTokenRow>(
    sql`select ${COLUMNS} from api_tokens where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? toApiToken(row) : null;
}

export async function revokeApiToken(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(sql`
    update api_tokens set revoked_at = coalesce(revoked_at, now())
    where tenant_id = ${tenantId} and id = ${id} returning id`);
  return rows.length > 0;
}

/** Last-used time with minute resolution: at most one write per token per minute, not one per request. */
export async function touchApiToken(tx: Queryable, tenantId: TenantId, id: string): Promise<void> {
  await tx.query(sql`
    update api_tokens set last_used_at = now()
    where tenant_id = ${tenantId} and id = ${id}
      and (last_used_at is null or last_used_at < now() - interval '1 minute')`);
}
