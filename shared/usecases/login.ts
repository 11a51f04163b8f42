import { signAccessToken } from '../auth/access-token.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../auth/password.ts';
import { ForbiddenError, QuotaExceededError, UnauthorizedError } from '../domain/errors.ts';
import { asTenantId } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import { findTenantBySlug } from '../repositories/tenants.ts';
import { findUserCredentials, recordLoginResult } from '../repositories/users.ts';

/** After this many consecutive failures an account must wait LOCKOUT_SECONDS before trying again. */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_SECONDS = 300;

const BAD_LOGIN = 'The email, password or tenant is not correct.';

export interface LoginDeps {
  readonly db: Database;
  readonly jwtSigningKey: string;
  readonly accessTokenTtlSeconds: number;
  readonly now?: () => Date;
}

/** Email + password + tenant slug → a short-lived access token. Every failure looks the same. */
export async function login(
  input: { tenant: string; email: string; password: string },
  deps: LoginDeps,
): Promise<{ accessToken: string; expiresAt: Date }> {
  const now = deps.now?.() ?? new Date();
  const tenant = await deps.db.withSystem((tx) => findTenantBySlug(tx, input.tenant));
  if (!tenant) {
    await verifyPassword(input.password, DUMMY_PASSWORD_HASH); // same timing as a wrong password
    throw new UnauthorizedError(BAD_LOGIN);
  }
  const tenantId = asTenantId(tenant.id);
  const user = await deps.db.withTenant(tenantId, (tx) =>
    findUserCredentials(tx, tenantId, input.email.toLowerCase()),
  );
  if (user && user.failedLogins >= MAX_FAILED_LOGINS && user.lastFailedLoginAt) {
    const waited = (now.getTime() - user.lastFailedLoginAt.getTime()) / 1000;
    if (waited < LOCKOUT_SECONDS) {
      throw new QuotaExceededError('Too many failed sign-in attempts for this account. Try again later.', {
        retryAfterSeconds: Math.ceil(LOCKOUT_SECONDS - waited),
      });
    }
  }
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user?.passwordHash) throw new UnauthorizedError(BAD_LOGIN);
  await deps.db.withTenant(tenantId, (tx) => recordLoginResult(tx, tenantId, user.id, ok));
  if (!ok) throw new UnauthorizedError(BAD_LOGIN);
  if (tenant.status === 'suspended')
    throw new ForbiddenError('This tenant is suspended. Contact the platform administrator.');
  const { token, expiresAt } = await signAccessToken(
    { userId: user.id, tenantId, role: user.role },
    deps.jwtSigningKey,
    deps.accessTokenTtlSeconds,
  );
  return { accessToken: token, expiresAt };
}
