import { requireSessionOrAdminScope, requireTenantAdmin, requireUserSession } from '../auth/authorize.ts';
import { forgetResolvedCredentials } from '../auth/credential-cache.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth/password.ts';
import type { AuthContext, Role } from '../domain/auth-context.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { User } from '../domain/user.ts';
import type { Database, Queryable } from '../ports/database.ts';
import type { Logger } from '../ports/logger.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import {
  countOwners,
  deleteUser,
  findUser,
  findUserCredentialsById,
  insertUser,
  listUsers,
  setUserPassword,
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
  // Every user's email: for those who manage users, not for any credential of the tenant.
  requireTenantAdmin(auth);
  return deps.db.withTenant(auth.tenantId, (tx) => listUsers(tx, auth.tenantId, page));
}

export interface UserChanges {
  name?: string | null | undefined;
  role?: Role | undefined;
  password?: string | undefined;
  /** Required to change one's own password. */
  currentPassword?: string | undefined;
}

/**
 * A password is changed only in a signed-in session (an API token, even a read-only one, must never be
 * able to take over its user's account): one's own with the current password, another user's as an
 * owner/admin reset, recorded on the user (password_changed_by) and in the log. Either way the password
 * version moves on, so access tokens issued before are refused.
 */
async function assertMayChangePassword(
  auth: AuthContext,
  self: boolean,
  changes: UserChanges,
  tx: Queryable,
): Promise<void> {
  requireUserSession(auth, 'Changing a password');
  if (!self) return; // requireTenantAdmin already ran: an owner/admin reset
  if (!changes.currentPassword) {
    throw new ValidationError('current_password is required to change your own password.');
  }
  const stored = await findUserCredentialsById(tx, auth.tenantId, auth.userId ?? '');
  if (!(await verifyPassword(changes.currentPassword, stored?.passwordHash ?? DUMMY_PASSWORD_HASH))) {
    throw new ForbiddenError('The current password is not correct.');
  }
}

export async function changeUser(
  auth: AuthContext,
  id: string,
  changes: UserChanges,
  deps: { db: Database; logger?: Logger },
): Promise<User> {
  const self = auth.userId === id;
  // Anyone may rename themselves or change their own password in a session; everything else is for admins.
  if (!self || changes.role !== undefined) requireTenantAdmin(auth);
  else requireSessionOrAdminScope(auth, 'Changing your own profile');
  if (changes.role) assertMayGrant(auth, changes.role);
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  const user = await deps.db.withTenant(auth.tenantId, async (tx) => {
    const current = await findUser(tx, auth.tenantId, id);
    if (!current) throw new NotFoundError('User');
    if (changes.password) await assertMayChangePassword(auth, self, changes, tx);
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
    const updated = await updateUser(tx, auth.tenantId, id, { name: changes.name, role: changes.role });
    if (!updated) throw new NotFoundError('User');
    if (!passwordHash) return updated;
    return (
      (await setUserPassword(tx, auth.tenantId, id, { passwordHash, changedBy: auth.userId ?? null })) ??
      updated
    );
  });
  // A demotion or a new password (which ends older sessions) must not be outlived by a reused credential.
  forgetResolvedCredentials();
  if (passwordHash) {
    deps.logger?.info(self ? 'password changed' : 'password reset by an owner/admin', {
      tenantId: auth.tenantId,
      userId: id,
      changedBy: auth.userId,
    });
  }
  return user;
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
  forgetResolvedCredentials();
}
