import { sign, verify } from 'hono/jwt';
import type { Role, Scope } from '../domain/auth-context.ts';

/** Claims of our short-lived user access tokens (JWT, HS256). */
export interface AccessTokenClaims {
  readonly sub: string; // user id
  readonly tid: string; // tenant id
  readonly role: Role;
  readonly iat: number;
  readonly exp: number;
  readonly typ: 'access';
}

export async function signAccessToken(
  claims: { userId: string; tenantId: string; role: Role },
  key: string,
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresAt: Date }> {
  const payload: AccessTokenClaims = {
    sub: claims.userId,
    tid: claims.tenantId,
    role: claims.role,
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
    return payload as AccessTokenClaims;
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
