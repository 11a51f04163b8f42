import { assignments, sql } from '../db/sql.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Tenant, TenantStatus } from '../domain/tenant.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  monthly_token_budget: number | null;
  requests_per_minute: number | null;
  created_at: Date;
  updated_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  status: r.status,
  monthlyTokenBudget: r.monthly_token_budget,
  requestsPerMinute: r.requests_per_minute,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertTenant(
  tx: Queryable,
  t: Pick<Tenant, 'id' | 'slug' | 'name' | 'monthlyTokenBudget' | 'requestsPerMinute'>,
): Promise<Tenant> {
  const [row] = await tx.query<TenantRow>(sql`
    insert into tenants (id, slug, name, monthly_token_budget, requests_per_minute)
    values (${t.id}, ${t.slug}, ${t.name}, ${t.monthlyTokenBudget}, ${t.requestsPerMinute})
    returning *`);
  return toTenant(row!);
}

export async function findTenantById(tx: Queryable, id: string): Promise<Tenant | null> {
  const [row] = await tx.query<TenantRow>(sql`select * from tenants where id = ${id}`);
  return row ? toTenant(row) : null;
}

export async function findTenantBySlug(tx: Queryable, slug: string): Promise<Tenant | null> {
  const [row] = await tx.query<TenantRow>(sql`select * from tenants where slug = ${slug}`);
  return row ? toTenant(row) : null;
}

export async function listTenants(tx: Queryable, page: PageRequest): Promise<Page<Tenant>> {
  const rows = await tx.query<TenantRow>(sql`
    select * from tenants where true ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toTenant), page.limit);
}

export interface TenantChanges {
  name?: string | undefined;
  status?: TenantStatus | undefined;
  monthlyTokenBudget?: number | null | undefined;
  requestsPerMinute?: number | null | undefined;
}

export async function updateTenant(
  tx: Queryable,
  id: string,
  changes: TenantChanges,
): Promise<Tenant | null> {
  const set = assignments([
    [sql`name`, changes.name],
    [sql`status`, changes.status],
    [sql`monthly_token_budget`, changes.monthlyTokenBudget],
    [sql`requests_per_minute`, changes.requestsPerMinute],
  ]);
  const [row] = await tx.query<TenantRow>(sql`update tenants set ${set} where id = ${id} returning *`);
  return row ? toTenant(row) : null;
}

/** Every tenant's id (the platform's sweeps, as the owner: tenants is a platform table). */
export async function listTenantIds(tx: Queryable): Promise<TenantId[]> {
  const rows = await tx.query<{ id: string }>(sql`select id from tenants order by id`);
  return rows.map((r) => r.id as TenantId);
}
