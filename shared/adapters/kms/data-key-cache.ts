/**
 * A small bounded cache of plaintext data keys KMS already decrypted, so a chat that decrypts the same
 * bot's credentials on every message does not pay a KMS round trip (and request quota) each time.
 *
 * Entries are keyed by the encrypted data key AND the canonical context, so a hit means KMS accepted
 * exactly this (blob, context) pair before. The cache owns its copies: they are zeroed when they
 * expire, are evicted (least recently used first) or the cache is cleared. The trade-off: a revoked
 * KMS grant keeps working for up to `ttlMs` in a warm container.
 */
export interface DataKeyCache {
  /** Runs `use` with the cached key (valid only during the call), or returns undefined on a miss. */
  use<T>(cacheKey: string, use: (dataKey: Buffer) => T): T | undefined;
  /** Stores a copy of `dataKey`; the caller still owns (and zeroes) its own buffer. */
  put(cacheKey: string, dataKey: Uint8Array): void;
  clear(): void;
  readonly size: number;
}

interface Entry {
  readonly key: Buffer;
  readonly expiresAt: number;
}

export function createDataKeyCache(options: {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}): DataKeyCache {
  const { ttlMs, maxEntries } = options;
  const now = options.now ?? Date.now;
  // Map iteration order is insertion order: re-inserting on a hit makes the first entry the LRU one.
  const entries = new Map<string, Entry>();

  const drop = (cacheKey: string, entry: Entry) => {
    entry.key.fill(0);
    entries.delete(cacheKey);
  };

  return {
    use(cacheKey, use) {
      const entry = entries.get(cacheKey);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        drop(cacheKey, entry);
        return undefined;
      }
      entries.delete(cacheKey);
      entries.set(cacheKey, entry);
      return use(entry.key);
    },
    put(cacheKey, dataKey) {
      if (ttlMs <= 0 || maxEntries <= 0) return;
      const previous = entries.get(cacheKey);
      if (previous) drop(cacheKey, previous);
      entries.set(cacheKey, { key: Buffer.from(dataKey), expiresAt: now() + ttlMs });
      const at = now();
      for (const [k, e] of entries) {
        if (entries.size <= maxEntries && e.expiresAt > at) break;
        if (entries.size > maxEntries || e.expiresAt <= at) drop(k, e);
      }
    },
    clear() {
      for (const [k, e] of entries) drop(k, e);
    },
    get size() {
      return entries.size;
    },
  };
}
