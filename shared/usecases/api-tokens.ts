import { generateApiToken } from '../auth/api-token.ts';
import { requireSessionOrAdminScope, requireTenantAdmin } from '../auth/authorize.ts';
import { forgetResolvedCredentials } from '../auth/credential-cache.ts';
import type { ApiToken } from '../domain/api-token.ts';
import type { AuthContext, Scope } from '../domain/auth-context.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import { findApiToken, insertApiToken, listApiTokens, revokeApiToken } from '../repositories/api-tokens.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';

export interface MintApiTokenInput {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly expiresAt?: Date | undefined;
  readonly serviceAccount?: boolean | undefined;
}

/**
 * Mints an API token. A caller can never mint more than it holds: the new token's scopes must be a
 * subset of the caller's, and service-account tokens (not tied to a person) need a tenant admin.
 */
export async function mintApiToken(
  auth: AuthContext,
  input: MintApiTokenInput,
  deps: { db: Database; now?: () => Date },
): Promise<{ token: ApiToken; secret: string }> {
  requireSessionOrAdminScope(auth, 'Minting an API token');
  const excess = input.scopes.filter((s) => !auth.scopes.includes(s) && !auth.scopes.includes('admin'));
  if (excess.length > 0) {
    throw new ForbiddenError(`A token cannot have scopes its creator lacks: ${excess.join(', ')}.`);
  }
  if (input.scopes.includes('admin') && auth.role === 'member') {
    throw new ForbiddenError('Only a tenant owner or admin may mint a token with the admin scope.');
  }
  if (input.serviceAccount) requireTenantAdmin(auth);
  if (input.expiresAt && input.expiresAt <= (deps.now?.() ?? new Date())) {
    throw new ValidationError('expires_at must be in the future.');
  }
  const generated = generateApiToken();
  const token = await deps.db.withTenant(auth.tenantId, (tx) =>
    insertApiToken(tx, auth.tenantId, {
      id: newId(),
      userId: input.serviceAccount ? null : (auth.userId ?? null),
      name: input.name,
      prefix: generated.displayPrefix,
      hash: generated.hash,
      scopes: [...new Set(input.scopes)],
      // A service account acts as a member whose reach is set by its scopes.
      role: input.serviceAccount ? (input.scopes.includes('admin') ? 'admin' : 'member') : auth.role,
      isServiceAccount: input.serviceAccount ?? false,
      expiresAt: input.expiresAt ?? null,
    }),
  );
  return { token, secret: generated.secret };
}

export function listTenantApiTokens(
  auth: AuthContext,
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<ApiToken>> {
  requireTenantAdmin(auth);
  return deps.db.withTenant(auth.tenantId, (tx) => listApiTokens(tx, auth.tenantId, page));
}

/**
 * Revocation takes effect on this process's next request, and within CREDENTIAL_REUSE_MS on any other
 * (credential-cache.ts).
 */
export async function revokeTenantApiToken(
  auth: AuthContext,
  id: string,
  deps: { db: Database },
): Promise<void> {
  requireSessionOrAdminScope(auth, 'Revoking an API token');
  await deps.db.withTenant(auth.tenantId, async (tx) => {
    const token = await findApiToken(tx, auth.tenantId, id);
    if (!token) throw new NotFoundError('API token');
    // Members may revoke their own tokens; anything else needs a tenant admin.
    if (token.userId !== auth.userId || token.isServiceAccount) requireTenantAdmin(auth);
    await revokeApiToken(tx, auth.tenantId, id);
  });
  forgetResolvedCredentials();
}
