import { createHash, randomBytes } from 'node:crypto';
import { base62 } from '../domain/base62.ts';

export const API_TOKEN_PREFIX = 'mrag_';

export interface NewApiToken {
  /** Shown to the caller exactly once. */
  readonly secret: string;
  /** What we store: SHA-256 of the secret (256 bits of entropy need no slow hash). */
  readonly hash: string;
  /** A readable, non-secret label for lists: `mrag_AbC1…`. */
  readonly displayPrefix: string;
}

export function hashApiToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateApiToken(): NewApiToken {
  const secret = API_TOKEN_PREFIX + base62(randomBytes(32));
  return { secret, hash: hashApiToken(secret), displayPrefix: `${secret.slice(0, 9)}…` };
}

export const looksLikeApiToken = (bearer: string): boolean =>
  bearer.startsWith(API_TOKEN_PREFIX) && /^mrag_[0-9A-Za-z]{43}$/.test(bearer);
