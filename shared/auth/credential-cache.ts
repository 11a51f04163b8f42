import { createHash } from 'node:crypto';
import type { AuthContext } from '../domain/auth-context.ts';

/**
 * How long this process reuses a resolved bearer credential before asking the database again. Resolving
 * one is a transaction of its own (token or user, tenant status); reusing it lets an authenticated request
 * run as the single transaction of its route. The price is the bound: a token revoked, a user demoted or
 * removed, or a tenant suspended through another process (another Lambda container) still passes there for
 * at most this long. Changes made through this process take effect at once (forgetResolvedCredentials).
 */
export const CREDENTIAL_REUSE_MS = 5_000;

/** Enough for every active caller of one container; the oldest entry goes first beyond it. */
const MAX_ENTRIES = 1_000;

interface Entry {
  readonly auth: AuthContext;
  readonly until: number;
}

const entries = new Map<string, Entry>();

/** The map is keyed by a digest of the credential, so the process holds no bearer secret in it. */
const keyOf = (bearer: string) => createHash('sha256').update(bearer).digest('base64url');

export function reusableCredential(bearer: string, nowMs: number): AuthContext | undefined {
  const key = keyOf(bearer);
  const entry = entries.get(key);
  if (!entry) return undefined;
  if (entry.until <= nowMs) {
    entries.delete(key);
    return undefined;
  }
  return entry.auth;
}

export function rememberCredential(bearer: string, auth: AuthContext, nowMs: number, reuseMs: number): void {
  if (reuseMs <= 0) return;
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(keyOf(bearer), { auth, until: nowMs + reuseMs });
}

/**
 * Called after anything that can take access away (revoking a token, changing or removing a user, changing a
 * tenant's status), so this process never serves the old answer.
 */
export function forgetResolvedCredentials(): void {
  entries.clear();
}
