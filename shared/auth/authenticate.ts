import { timingSafeEqual } from 'node:crypto';
import { type AuthContext, type Role, SCOPES, type Scope } from '../domain/auth-context.ts';
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
import { CREDENTIAL_REUSE_MS, rememberCredential, reusableCredential } from './credential-cache.ts';

export type Principal =
  | { readonly kind: 'platform-admin' }
  | { readonly kind: 'tenant'; readonly auth: AuthContext };

export interface AuthenticateDeps {
  readonly db: Database;
  readonly adminToken: string;
  readonly jwtSigningKey: string;
  readonly now?: () => Date;
  /** Milliseconds a resolved credential is reused (credential-cache.ts); 0 resolves every request. */
  readonly credentialReuseMs?: number;
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
  const reused = reusableCredential(bearer, now.getTime());
  if (reused) return { kind: 'tenant', auth: reused };
  const { auth, expiresAtMs } = looksLikeApiToken(bearer)
    ? await fromApiToken(bearer, deps, now)
    : await fromAccessToken(bearer, deps);
  // Never reused past the credential's own expiry.
  const reuseMs = Math.min(deps.credentialReuseMs ?? CREDENTIAL_REUSE_MS, expiresAtMs - now.getTime());
  rememberCredential(bearer, auth, now.getTime(), reuseMs);
  return { kind: 'tenant', auth };
}

/** Who a credential stands for, and until when it may stand for them. */
interface Resolved {
  readonly auth: AuthContext;
  readonly expiresAtMs: number;
}

async function fromApiToken(secret: string, deps: AuthenticateDeps, now: Date): Promise<Resolved> {
  const hash = hashApiToken(secret);
  return deps.db.withSettings({ 'app.token_hash': hash }, async (tx) => {
    const token = await findApiTokenByHash(tx, hash);
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now))
      throw new UnauthorizedError(INVALID);
    const tenantId = asTenantId(token.tenantId);
    await enterTenant(tx, tenantId);
    assertActive(await findTenantById(tx, tenantId));
    // A user's token is worth no more than its user is now: demoting or deleting the user takes effect
    // on the next request, as it does for access tokens.
    let { role, scopes } = token;
    if (token.userId) {
      const user = await findUser(tx, tenantId, token.userId);
      if (!user) throw new UnauthorizedError(INVALID);
      role = lowerRole(token.role, user.role);
      scopes = withinRole(token.scopes, role);
    }
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
      await touchApiToken(tx, tenantId, token.id);
    }
    return {
      auth: {
        tenantId,
        userId: token.userId ?? undefined,
        tokenId: token.id,
        isServiceAccount: token.isServiceAccount,
        role,
        scopes,
      },
      expiresAtMs: token.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
    };
  });
}

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };
const lowerRole = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);

/** The token's scopes (`admin` standing for every scope) that the role still allows. */
function withinRole(scopes: readonly Scope[], role: Role): Scope[] {
  const held = scopes.includes('admin') ? SCOPES : scopes;
  const allowed = scopesForRole(role);
  return held.filter((s) => allowed.includes(s));
}

async function fromAccessToken(jwt: string, deps: AuthenticateDeps): Promise<Resolved> {
  const claims = await verifyAccessToken(jwt, deps.jwtSigningKey);
  if (!claims || !isUuid(claims.tid) || !isUuid(claims.sub)) throw new UnauthorizedError(INVALID);
  const tenantId = asTenantId(claims.tid);
  return deps.db.withTenant(tenantId, async (tx) => {
    assertActive(await findTenantById(tx, tenantId));
    // The role is read again: a demoted or deleted user loses access before the token expires.
    const user = await findUser(tx, tenantId, claims.sub);
    // A password change ends the sessions begun before it.
    if (!user || user.passwordVersion !== claims.pwv) throw new UnauthorizedError(INVALID);
    return {
      auth: {
        tenantId,
        userId: user.id,
        tokenId: undefined,
        isServiceAccount: false,
        role: user.role,
        scopes: scopesForRole(user.role),
      },
      expiresAtMs: claims.exp * 1000,
    };
  });
}
