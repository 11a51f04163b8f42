import { signAccessToken } from '../auth/access-token.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../auth/password.ts';
import { QuotaExceededError, UnauthorizedError } from '../domain/errors.ts';
import { asTenantId } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import { chargeLoginAttempt, clearLoginFailures, loginAttemptKey } from '../repositories/login-attempts.ts';
import { findTenantBySlug } from '../repositories/tenants.ts';
import { findUserCredentials } from '../repositories/users.ts';

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

/**
 * Email + password + tenant slug → a short-lived access token. Every failure looks the same: an unknown
 * tenant or email costs the same password check, and is counted and locked out like a real account.
 */
export async function login(
  input: { tenant: string; email: string; password: string },
  deps: LoginDeps,
): Promise<{ accessToken: string; expiresAt: Date }> {
  const now = deps.now?.() ?? new Date();
  const attemptKey = loginAttemptKey(input.tenant, input.email);
  // One system transaction: the attempt is counted (or refused) before the password check, and the
  // tenant is read.
  const { charge, tenant } = await deps.db.withSystem(async (tx) => ({
    charge: await chargeLoginAttempt(tx, attemptKey, now, {
      maxFailures: MAX_FAILED_LOGINS,
      lockoutSeconds: LOCKOUT_SECONDS,
    }),
    tenant: await findTenantBySlug(tx, input.tenant),
  }));
  if (!charge.charged) {
    throw new QuotaExceededError('Too many failed sign-in attempts for this account. Try again later.', {
      retryAfterSeconds: Math.max(1, Math.ceil((charge.lockedUntil.getTime() - now.getTime()) / 1000)),
    });
  }
  const tenantId = tenant ? asTenantId(tenant.id) : null;
  const user = tenantId
    ? await deps.db.withTenant(tenantId, (tx) => findUserCredentials(tx, tenantId, input.email.toLowerCase()))
    : null;
  // Always one scrypt check, against a dummy hash when there is no account: the same time either way.
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  // A failure was already counted above. A suspended tenant refuses exactly as a wrong password does, right
  // password or not: a different answer for the right one would confirm passwords to whoever is guessing them.
  if (!tenant || !tenantId || !user?.passwordHash || !ok || tenant.status === 'suspended') {
    throw new UnauthorizedError(BAD_LOGIN);
  }
  await deps.db.withSystem((tx) => clearLoginFailures(tx, attemptKey));
  const { token, expiresAt } = await signAccessToken(
    { userId: user.id, tenantId, role: user.role, passwordVersion: user.passwordVersion },
    deps.jwtSigningKey,
    deps.accessTokenTtlSeconds,
  );
  return { accessToken: token, expiresAt };
}
