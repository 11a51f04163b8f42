import { timingSafeEqual } from 'node:crypto';
import type { AuthContext } from '../domain/auth-context.ts';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.ts';
import { asTenantId, isUuid } from '../domain/ids.ts';
import type { Tenant } from '../domain/tenant.ts';
import type { Database } from '../ports/database.ts';
import { findApiTokenByHash, touchApiToken } from '../repositories/api-tokens.ts';
import { enterTenant } from '../repositories/tenant-scope.ts';
import { findTenantById } from '../repositories/tenants.ts';
import { findUser } from '../repositories/users.ts';
import { scopesForRole, verifyAccessToken } from './access-token.ts';
import { hashApiToken, looksLikeApiToken } from './api-token.ts';

export type Principal =
  | { readonly kind: 'platform-admin' }
  | { readonly kind: 'tenant'; readonly auth: AuthContext };

export interface AuthenticateDeps {
  readonly db: Database;
  readonly adminToken: string;
  readonly jwtSigningKey: string;
  readonly now?: () => Date;
}

const INVALID = 'The bearer token is missing, malformed, expired or revoked.';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function assertActive(tenant: Tenant | null): asserts tenant is Tenant {
  if (!tenant) throw new UnauthorizedError(INVALID);
  if (tenant.status === 'suspended')
    throw new ForbiddenError('This tenant is suspended. Contact the platform administrator.');
}

/** Turns a bearer credential into who is calling. The tenant comes from nowhere else. */
export async function authenticate(bearer: string | undefined, deps: AuthenticateDeps): Promise<Principal> {
  if (!bearer) throw new UnauthorizedError('An Authorization: Bearer token is required.');
  if (sameSecret(bearer, deps.adminToken)) return { kind: 'platform-admin' };
  const now = deps.now?.() ?? new Date();
  const auth = looksLikeApiToken(bearer)
    ? await fromApiToken(bearer, deps, now)
    : await fromAccessToken(bearer, deps);
  return { kind: 'tenant', auth };
}

async function fromApiToken(secret: string, deps: AuthenticateDeps, now: Date): Promise<AuthContext> {
  const hash = hashApiToken(secret);
  return deps.db.withSettings({ 'app.token_hash': hash }, async (tx) => {
    const token = await findApiTokenByHash(tx, hash);
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now))
      throw new UnauthorizedError(INVALID);
    const tenantId = asTenantId(token.tenantId);
    await enterTenant(tx, tenantId);
    assertActive(await findTenantById(tx, tenantId));
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
      await touchApiToken(tx, tenantId, token.id);
    }
    return {
      tenantId,
      userId: token.userId ?? undefined,
      tokenId: token.id,
      isServiceAccount: token.isServiceAccount,
      role: token.role,
      scopes: token.scopes,
    };
  });
}

async function fromAccessToken(jwt: string, deps: AuthenticateDeps): Promise<AuthContext> {
  const claims = await verifyAccessToken(jwt, deps.jwtSigningKey);
  if (!claims || !isUuid(claims.tid) || !isUuid(claims.sub)) throw new UnauthorizedError(INVALID);
  const tenantId = asTenantId(claims.tid);
  return deps.db.withTenant(tenantId, async (tx) => {
    assertActive(await findTenantById(tx, tenantId));
    // The role is read again: a demoted or deleted user loses access before the token expires.
    const user = await findUser(tx, tenantId, claims.sub);
    if (!user) throw new UnauthorizedError(INVALID);
    return {
      tenantId,
      userId: user.id,
      tokenId: undefined,
      isServiceAccount: false,
      role: user.role,
      scopes: scopesForRole(user.role),
    };
  });
}
