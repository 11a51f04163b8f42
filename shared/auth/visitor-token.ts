import { sign, verify } from 'hono/jwt';

/**
 * Claims of a visitor token (JWT, HS256, the user tokens' key): a short-lived credential a website's
 * visitor gets from a publishable key. It names everything it is bound to; every request still checks
 * the key (revocation, origins) before the token is honoured.
 */
export interface VisitorTokenClaims {
  readonly tid: string; // tenant
  readonly bot: string;
  readonly pk: string; // publishable key id
  readonly vid: string; // visitor id
  readonly iat: number;
  readonly exp: number;
  readonly typ: 'visitor';
}

export async function signVisitorToken(
  claims: { tenantId: string; botId: string; keyId: string; visitorId: string },
  key: string,
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresAt: Date }> {
  const payload: VisitorTokenClaims = {
    tid: claims.tenantId,
    bot: claims.botId,
    pk: claims.keyId,
    vid: claims.visitorId,
    iat: now,
    exp: now + ttlSeconds,
    typ: 'visitor',
  };
  return { token: await sign({ ...payload }, key, 'HS256'), expiresAt: new Date((now + ttlSeconds) * 1000) };
}

/** Signature (HS256 only), expiry and the visitor type: a user's access token is not a visitor token. */
export async function verifyVisitorToken(token: string, key: string): Promise<VisitorTokenClaims | null> {
  try {
    const p = (await verify(token, key, 'HS256')) as Partial<VisitorTokenClaims>;
    if (p.typ !== 'visitor') return null;
    if ([p.tid, p.bot, p.pk, p.vid].some((v) => typeof v !== 'string')) return null;
    return p as VisitorTokenClaims;
  } catch {
    return null;
  }
}
