import { sign, verify } from 'hono/jwt';
import type { Role, Scope } from '../domain/auth-context.ts';

/** Claims of our short-lived user access tokens (JWT, HS256). */
export interface AccessTokenClaims {
  readonly sub: string; // user id
  readonly tid: string; // tenant id
  readonly role: Role;
  /** The user's password version at issue: a later password change refuses the token. */
  readonly pwv: number;
  readonly iat: number;
  readonly exp: number;
  readonly typ: 'access';
}

export async function signAccessToken(
  claims: { userId: string; tenantId: string; role: Role; passwordVersion?: number },
  key: string,
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresAt: Date }> {
  const payload: AccessTokenClaims = {
    sub: claims.userId,
    tid: claims.tenantId,
    role: claims.role,
    pwv: claims.passwordVersion ?? 0,
    iat: now,
    exp: now + ttlSeconds,
    typ: 'access',
  };
  return { token: await sign({ ...payload }, key, 'HS256'), expiresAt: new Date((now + ttlSeconds) * 1000) };
}

/** Verifies signature (HS256 only: `alg: none` and other algorithms are refused) and expiry. */
export async function verifyAccessToken(token: string, key: string): Promise<AccessTokenClaims | null> {
  try {
    const payload = (await verify(token, key, 'HS256')) as Partial<AccessTokenClaims>;
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.tid !== 'string')
      return null;
    // Tokens signed before the claim existed were issued under password version 0.
    return { ...payload, pwv: typeof payload.pwv === 'number' ? payload.pwv : 0 } as AccessTokenClaims;
  } catch {
    return null;
  }
}

/** The scopes a user's access token carries: everything its role allows. */
export function scopesForRole(role: Role): Scope[] {
  return role === 'member'
    ? ['read', 'chat', 'sources:write']
    : ['admin', 'bots:write', 'sources:write', 'chat', 'read'];
}
