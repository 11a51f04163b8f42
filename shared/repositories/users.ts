import { assignments, sql } from '../db/sql.ts';
import type { Role } from '../domain/auth-context.ts';
import type { TenantId } from '../domain/ids.ts';
import type { User } from '../domain/user.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

/** Only the login use case sees these fields. */
export interface UserCredentials extends User {
  readonly passwordHash: string | null;
}

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  name: string | null;
  role: Role;
  password_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertUser(
  tx: Queryable,
  tenantId: TenantId,
  u: { id: string; email: string; name: string | null; role: Role; passwordHash: string | null },
): Promise<User> {
  const [row] = await tx.query<UserRow>(sql`
    insert into users (id, tenant_id, email, name, role, password_hash)
    values (${u.id}, ${tenantId}, ${u.email}, ${u.name}, ${u.role}, ${u.passwordHash})
    returning *`);
  return toUser(row!);
}

export async function findUser(tx: Queryable, tenantId: TenantId, id: string): Promise<User | null> {
  const [row] = await tx.query<UserRow>(
    sql`select * from users where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? toUser(row) : null;
}

export async function findUserCredentials(
  tx: Queryable,
  tenantId: TenantId,
  email: string,
): Promise<UserCredentials | null> {
  const [row] = await tx.query<UserRow>(
    sql`select * from users where tenant_id = ${tenantId} and email = ${email}`,
  );
  return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
}

export async function listUsers(tx: Queryable, tenantId: TenantId, page: PageRequest): Promise<Page<User>> {
  const rows = await tx.query<UserRow>(sql`
    select * from users where tenant_id = ${tenantId} ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toUser), page.limit);
}

export async function countOwners(tx: Queryable, tenantId: TenantId): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    sql`select count(*)::int as n from users where tenant_id = ${tenantId} and role = 'owner'`,
  );
  return row?.n ?? 0;
}

export async function updateUser(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
  changes: { name?: string | null | undefined; role?: Role | undefined; passwordHash?: string | undefined },
): Promise<User | null> {
  const set = assignments([
    [sql`name`, changes.name],
    [sql`role`, changes.role],
    [sql`password_hash`, changes.passwordHash],
  ]);
  const [row] = await tx.query<UserRow>(
    sql`update users set ${set} where tenant_id = ${tenantId} and id = ${id} returning *`,
  );
  return row ? toUser(row) : null;
}

export async function deleteUser(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(
    sql`delete from users where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  return rows.length > 0;
}
