import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database, Queryable } from '#shared/ports/database.ts';
import * as bots from '#shared/repositories/bots.ts';
import * as keys from '#shared/repositories/publishable-keys.ts';
import { insertReservation } from '#shared/repositories/quota-reservations.ts';
import { recordUsage } from '#shared/repositories/usage.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { walkPages } from '#test/fixtures/pages.ts';
import { type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The publishable-keys repository on every database: a key's round trip, its listing, revocation and last
 * use, and the counts a website visitor's request is admitted against (the key's tokens this month, its and
 * its visitor's requests of the last minute, its open reservations) — each for its own tenant and key only.
 */

describe.each([...databaseKinds(), ...dataApiKinds()])('publishable keys repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  let bot: string;
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));
  beforeAll(async () => {
    bot = newId();
    await db.withTenant(a, (tx) => bots.insertBot(tx, a, bot, { name: 'site' }));
  });

  const insertKey = (botId = bot, over: Partial<Parameters<typeof keys.insertPublishableKey>[2]> = {}) =>
    asA((tx) =>
      keys.insertPublishableKey(tx, a, {
        id: newId(),
        botId,
        name: 'web',
        prefix: 'mrpk_abc…',
        hash: randomUUID(),
        allowedOrigins: ['https://example.test'],
        perVisitorPerMinute: 5,
        perKeyPerMinute: 50,
        monthlyTokenBudget: 10_000,
        ...over,
      }),
    );

  it('when a key is inserted then it comes back whole, without its hash, and only its own hash finds it', async () => {
    const hash = randomUUID();
    const key = await insertKey(bot, { hash, allowedOrigins: ['https://a.test', 'https://b.test'] });
    expect(key).toMatchObject({
      tenantId: a,
      botId: bot,
      name: 'web',
      prefix: 'mrpk_abc…',
      allowedOrigins: ['https://a.test', 'https://b.test'],
      perVisitorPerMinute: 5,
      perKeyPerMinute: 50,
      monthlyTokenBudget: 10_000,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(key).not.toHaveProperty('hash');
    expect(key.createdAt).toBeInstanceOf(Date);
    const byHash = (h: string) =>
      db.withSettings({ 'app.publishable_key_hash': h }, (tx) => keys.findPublishableKeyByHash(tx, h));
    expect(await byHash(hash)).toEqual(key);
    expect(await byHash(randomUUID())).toBeNull();
    expect(await asA((tx) => keys.findPublishableKey(tx, a, key.id))).toEqual(key);
    expect(await db.withTenant(b, (tx) => keys.findPublishableKey(tx, b, key.id))).toBeNull();
    expect(await asA((tx) => keys.findPublishableKey(tx, b, key.id))).toBeNull();
  });

  it("when a bot's keys are listed then pages of the asked size cover its keys, and no other bot's", async () => {
    const other = newId();
    await asA((tx) => bots.insertBot(tx, a, other, { name: 'other' }));
    const made = [(await insertKey(other)).id, (await insertKey(other)).id, (await insertKey(other)).id];
    await insertKey(bot);
    const first = await asA((tx) => keys.listPublishableKeys(tx, a, other, { limit: 2 }));
    expect(first.data).toHaveLength(2);
    const seen = await walkPages(
      (cursor) => asA((tx) => keys.listPublishableKeys(tx, a, other, { limit: 2, cursor })),
      20,
    );
    expect([...seen].sort()).toEqual([...made].sort());
    expect(
      (await db.withTenant(b, (tx) => keys.listPublishableKeys(tx, b, other, { limit: 10 }))).data,
    ).toEqual([]);
  });

  it("when a key is revoked then it says so, again too; another tenant's or an unknown key is not", async () => {
    const key = await insertKey();
    expect(await db.withTenant(b, (tx) => keys.revokePublishableKey(tx, b, key.id))).toBe(false);
    expect(await asA((tx) => keys.revokePublishableKey(tx, b, key.id))).toBe(false);
    expect(await asA((tx) => keys.revokePublishableKey(tx, a, newId()))).toBe(false);
    expect((await asA((tx) => keys.findPublishableKey(tx, a, key.id)))?.revokedAt).toBeNull();
    expect(await asA((tx) => keys.revokePublishableKey(tx, a, key.id))).toBe(true);
    const revokedAt = (await asA((tx) => keys.findPublishableKey(tx, a, key.id)))?.revokedAt;
    expect(revokedAt).toBeInstanceOf(Date);
    expect(await asA((tx) => keys.revokePublishableKey(tx, a, key.id))).toBe(true);
    expect((await asA((tx) => keys.findPublishableKey(tx, a, key.id)))?.revokedAt).toEqual(revokedAt);
  });

  it('when a key is used then its last use is recorded, by its own tenant only', async () => {
    const key = await insertKey();
    await db.withTenant(b, (tx) => keys.touchPublishableKey(tx, b, key.id));
    await asA((tx) => keys.touchPublishableKey(tx, b, key.id));
    expect((await asA((tx) => keys.findPublishableKey(tx, a, key.id)))?.lastUsedAt).toBeNull();
    await asA((tx) => keys.touchPublishableKey(tx, a, key.id));
    expect((await asA((tx) => keys.findPublishableKey(tx, a, key.id)))?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("when a key's visitors have used tokens and made requests then its counts hold exactly those, this month and minute", async () => {
    const key = await insertKey();
    const other = await insertKey();
    const use = (keyId: string, visitorId: string, tokens: number) =>
      asA((tx) =>
        recordUsage(tx, a, {
          kind: 'chat',
          provider: 'p',
          model: 'm',
          inputTokens: tokens,
          outputTokens: 1,
          botId: bot,
          publishableKeyId: keyId,
          visitorId,
        }),
      );
    await use(key.id, 'visitor-1', 10);
    await use(key.id, 'visitor-1', 20);
    await use(key.id, 'visitor-2', 30);
    await use(other.id, 'visitor-1', 1000);
    const reserve = (keyId: string, visitorId: string, tokens: number, ttlSeconds: number) =>
      asA((tx) =>
        insertReservation(tx, a, { id: newId(), tokens, ttlSeconds, publishableKeyId: keyId, visitorId }),
      );
    await reserve(key.id, 'visitor-1', 7, 60);
    await reserve(key.id, 'visitor-2', 3, 60);
    await reserve(key.id, 'visitor-1', 500, -1); // already expired
    await reserve(other.id, 'visitor-1', 900, 60);

    const now = new Date();
    expect(await asA((tx) => keys.keyTokensThisMonth(tx, a, key.id, now))).toBe(63);
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect(await asA((tx) => keys.keyTokensThisMonth(tx, a, key.id, nextMonth))).toBe(0);
    expect(await asA((tx) => keys.openKeyReservationTokens(tx, a, key.id))).toBe(10);

    const recent = await asA((tx) => keys.recentPublicRequests(tx, a, { keyId: key.id }));
    expect(recent.count).toBe(5);
    expect(recent.oldest).toBeInstanceOf(Date);
    expect(now.getTime() - recent.oldest!.getTime()).toBeLessThan(60_000);
    expect(
      await asA((tx) => keys.recentPublicRequests(tx, a, { keyId: key.id, visitorId: 'visitor-1' })),
    ).toMatchObject({ count: 3 });
    expect(
      await asA((tx) => keys.recentPublicRequests(tx, a, { keyId: key.id, visitorId: 'nobody' })),
    ).toEqual({
      count: 0,
      oldest: null,
    });

    // Another tenant, by its own transaction or by id, counts none of it.
    for (const run of [(fn: (tx: Queryable) => Promise<unknown>) => db.withTenant(b, fn), asA]) {
      expect(await run((tx) => keys.keyTokensThisMonth(tx, b, key.id, now))).toBe(0);
      expect(await run((tx) => keys.openKeyReservationTokens(tx, b, key.id))).toBe(0);
      expect(await run((tx) => keys.recentPublicRequests(tx, b, { keyId: key.id }))).toEqual({
        count: 0,
        oldest: null,
      });
    }
  });
});
