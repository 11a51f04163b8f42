import { describe, expect, it } from 'vitest';
import { createDataKeyCache } from '#shared/adapters/kms/data-key-cache.ts';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const key = (byte: number) => new Uint8Array(32).fill(byte);
/** The cached key's first byte, or undefined on a miss. */
const peek = (cache: ReturnType<typeof createDataKeyCache>, k: string) =>
  cache.use(k, (dataKey) => dataKey[0]);

describe('data key cache', () => {
  it('when a key is put then it is used until its TTL ends, and a miss after that', () => {
    const c = clock();
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 10, now: c.now });
    cache.put('a', key(7));
    expect(peek(cache, 'a')).toBe(7);
    c.advance(999);
    expect(peek(cache, 'a')).toBe(7);
    c.advance(1); // exactly at the expiry: expired
    expect(peek(cache, 'a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('when an entry expires then its copy of the key is zeroed', () => {
    const c = clock();
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 10, now: c.now });
    cache.put('a', key(7));
    let held: Buffer | undefined;
    cache.use('a', (dataKey) => {
      held = dataKey;
    });
    c.advance(1000);
    expect(peek(cache, 'a')).toBeUndefined();
    expect([...held!]).toEqual(new Array(32).fill(0));
  });

  it("when the caller's buffer is zeroed after put then the cache still has its own copy", () => {
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 10 });
    const mine = key(9);
    cache.put('a', mine);
    mine.fill(0);
    expect(peek(cache, 'a')).toBe(9);
  });

  it('when the TTL or the size is zero then nothing is cached', () => {
    for (const options of [
      { ttlMs: 0, maxEntries: 10 },
      { ttlMs: 1000, maxEntries: 0 },
      { ttlMs: -1, maxEntries: 10 },
    ]) {
      const cache = createDataKeyCache(options);
      cache.put('a', key(1));
      expect(cache.size, JSON.stringify(options)).toBe(0);
      expect(peek(cache, 'a')).toBeUndefined();
    }
  });

  it('when the same key is put again then it replaces the old entry, whose copy is zeroed', () => {
    const c = clock();
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 10, now: c.now });
    cache.put('a', key(1));
    let old: Buffer | undefined;
    cache.use('a', (dataKey) => {
      old = dataKey;
    });
    c.advance(900);
    cache.put('a', key(2));
    expect([...old!]).toEqual(new Array(32).fill(0));
    expect(cache.size).toBe(1);
    c.advance(900); // the new entry's TTL counts from the second put
    expect(peek(cache, 'a')).toBe(2);
  });

  it('when more keys are put than fit then the least recently used goes first', () => {
    const cache = createDataKeyCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.put('a', key(1));
    cache.put('b', key(2));
    expect(peek(cache, 'a')).toBe(1); // a is now the most recently used
    cache.put('c', key(3));
    expect(cache.size).toBe(2);
    expect(peek(cache, 'b')).toBeUndefined();
    expect(peek(cache, 'a')).toBe(1);
    expect(peek(cache, 'c')).toBe(3);
  });

  it('when the cache is exactly full then nothing is evicted', () => {
    const cache = createDataKeyCache({ ttlMs: 60_000, maxEntries: 3 });
    for (const [i, k] of ['a', 'b', 'c'].entries()) cache.put(k, key(i + 1));
    expect(cache.size).toBe(3);
    expect([peek(cache, 'a'), peek(cache, 'b'), peek(cache, 'c')]).toEqual([1, 2, 3]);
  });

  it('when a put finds expired entries at the front then they are dropped, and live ones kept', () => {
    const c = clock();
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 10, now: c.now });
    cache.put('old', key(1));
    c.advance(500);
    cache.put('younger', key(2));
    c.advance(600); // 'old' expired, 'younger' has 400 ms left
    cache.put('new', key(3));
    expect(cache.size).toBe(2);
    expect(peek(cache, 'younger')).toBe(2);
    expect(peek(cache, 'new')).toBe(3);
  });

  it('when cleared then every copy is zeroed and the cache is empty', () => {
    const cache = createDataKeyCache({ ttlMs: 60_000, maxEntries: 10 });
    cache.put('a', key(1));
    cache.put('b', key(2));
    const held: Buffer[] = [];
    for (const k of ['a', 'b']) cache.use(k, (dataKey) => held.push(dataKey));
    cache.clear();
    expect(cache.size).toBe(0);
    for (const b of held) expect([...b]).toEqual(new Array(32).fill(0));
  });
});
