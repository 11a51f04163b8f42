import type { AuthContext, Scope } from '../domain/auth-context.ts';
import { ForbiddenError } from '../domain/errors.ts';

/** The `admin` scope implies every other scope. */
export function hasScope(auth: AuthContext, scope: Scope): boolean {
  return auth.scopes.includes(scope) || auth.scopes.includes('admin');
}

export function requireScope(auth: AuthContext, scope: Scope): void {
  if (!hasScope(auth, scope)) {
    throw new ForbiddenError(`This credential lacks the '${scope}' scope needed for this operation.`);
  }
}

/** Managing users and tokens of others needs an owner or admin acting with the admin scope. */
export function requireTenantAdmin(auth: AuthContext): void {
  if (auth.role === 'member' || !auth.scopes.includes('admin')) {
    throw new ForbiddenError('Only a tenant owner or admin (with the admin scope) may do this.');
  }
}

/** A person signed in with their password (a JWT), not an API token acting for them. */
export function requireUserSession(auth: AuthContext, what: string): void {
  if (auth.tokenId !== undefined || !auth.userId) {
    throw new ForbiddenError(
      `${what} needs a signed-in user session (POST /v1/auth/token), not an API token.`,
    );
  }
}

/**
 * Self-service writes (minting or revoking one's own tokens, renaming oneself): a user session, or a
 * token with the admin scope. A read or chat token writes nothing of the kind.
 */
export function requireSessionOrAdminScope(auth: AuthContext, what: string): void {
  if (auth.tokenId === undefined && auth.userId) return;
  if (!auth.scopes.includes('admin')) {
    throw new ForbiddenError(
      `${what} needs a signed-in user session or a credential with the 'admin' scope.`,
    );
  }
}
