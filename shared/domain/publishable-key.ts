/** A bot's key for websites: not a secret, it lets browsers on the listed origins chat with that one bot. */
export interface PublishableKey {
  readonly id: string;
  readonly tenantId: string;
  readonly botId: string;
  readonly name: string | null;
  readonly prefix: string;
  /** Normalised origins (`https://help.example.com`, `http://localhost:8080`), or `['*']`. */
  readonly allowedOrigins: string[];
  readonly perVisitorPerMinute: number | null;
  readonly perKeyPerMinute: number | null;
  readonly monthlyTokenBudget: number | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly createdAt: Date;
}

/** Opted into explicitly: any site may then embed the bot (within the key's limits). */
export const ANY_ORIGIN = '*';

/**
 * The canonical form of an origin: lower-case scheme and host, the port only when it is not the scheme's
 * default. Returns null for anything that is not exactly an http(s) origin (paths, queries, credentials,
 * wildcards in a host, `null`).
 */
export function normalizeOrigin(value: string): string | null {
  if (!/^https?:\/\/[^/?#\s]+\/?$/i.test(value) || value.includes('*') || value.includes('@')) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** Whether a browser's `Origin` header is one the key allows: exact scheme, host and port. */
export function originAllowed(
  key: Pick<PublishableKey, 'allowedOrigins'>,
  origin: string | undefined,
): boolean {
  if (!origin) return false;
  if (key.allowedOrigins.includes(ANY_ORIGIN)) return true;
  const normalized = normalizeOrigin(origin);
  return normalized !== null && key.allowedOrigins.includes(normalized);
}

/** Who is chatting through the public routes: a visitor of a tenant's site, known only by a random id. */
export interface Visitor {
  readonly visitorId: string;
  readonly botId: string;
  readonly publishableKeyId: string;
  readonly perVisitorPerMinute: number | null;
  readonly perKeyPerMinute: number | null;
  readonly monthlyTokenBudget: number | null;
}
