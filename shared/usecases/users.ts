import { requireTenantAdmin } from '../auth/authorize.ts';
import { hashPassword } from '../auth/password.ts';
import type { AuthContext, Role } from '../domain/auth-context.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { User } from '../domain/user.ts';
import type { Database } from '../ports/database.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import {
  countOwners,
  deleteUser,
  findUser,
  insertUser,
  listUsers,
  updateUser,
} from '../repositories/users.ts';

/** Only an owner may create, promote to, or remove an owner. */
function assertMayGrant(auth: AuthContext, role: Role): void {
  if (role === 'owner' && auth.role !== 'owner')
    throw new ForbiddenError('Only an owner may grant the owner role.');
}

export async function createUser(
  auth: AuthContext,
  input: { email: string; name?: string | undefined; role: Role; password?: string | undefined },
  deps: { db: Database },
): Promise<User> {
  requireTenantAdmin(auth);
  assertMayGrant(auth, input.role);
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return deps.db.withTenant(auth.tenantId, (tx) =>
    insertUser(tx, auth.tenantId, {
      id: newId(),
      email: input.email.toLowerCase(),
      name: input.name ?? null,
      role: input.role,
      passwordHash,
    }),
  );
}

export function listTenantUsers(
  auth: AuthContext,
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<User>> {
  return deps.db.withTenant(auth.tenantId, (tx) => listUsers(tx, auth.tenantId, page));
}

export async function changeUser(
  auth: AuthContext,
  id: string,
  changes: { name?: string | null | undefined; role?: Role | undefined; password?: string | undefined },
  deps: { db: Database },
): Promise<User> {
  const self = auth.userId === id;
  // Anyone may rename themselves or change their own password; everything else is for admins.
  if (!self || changes.role !== undefined) requireTenantAdmin(auth);
  if (changes.role) assertMayGrant(auth, changes.role);
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const current = await findUser(tx, auth.tenantId, id);
    if (!current) throw new NotFoundError('User');
    if (current.role === 'owner' && auth.role !== 'owner')
      throw new ForbiddenError('Only an owner may change an owner.');
    if (
      current.role === 'owner' &&
      changes.role &&
      changes.role !== 'owner' &&
      (await countOwners(tx, auth.tenantId)) <= 1
    ) {
      throw new ConflictError('A tenant must keep at least one owner.');
    }
    const updated = await updateUser(tx, auth.tenantId, id, {
      name: changes.name,
      role: changes.role,
      passwordHash,
    });
    if (!updated) throw new NotFoundError('User');
    return updated;
  });
}

export async function removeUser(auth: AuthContext, id: string, deps: { db: Database }): Promise<void> {
  requireTenantAdmin(auth);
  await deps.db.withTenant(auth.tenantId, async (tx) => {
    const current = await findUser(tx, auth.tenantId, id);
    if (!current) throw new NotFoundError('User');
    if (current.role === 'owner') {
      if (auth.role !== 'owner') throw new ForbiddenError('Only an owner may remove an owner.');
      if ((await countOwners(tx, auth.tenantId)) <= 1)
        throw new ConflictError('A tenant must keep at least one owner.');
    }
    await deleteUser(tx, auth.tenantId, id);
  });
}
