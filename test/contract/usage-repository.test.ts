import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { UsageEvent } from '#shared/domain/usage.ts';
import type { Database, Queryable } from '#shared/ports/database.ts';
import {
  deleteReservation,
  insertReservation,
  lockTenantQuota,
  openReservations,
} from '#shared/repositories/quota-reservations.ts';
import {
  chatRequestsLastMinute,
  recordUsage,
  summariseUsage,
  tokensThisMonth,
} from '#shared/repositories/usage.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { insertTestTenant as newTenant, type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The usage and quota-reservation repositories on every database: what is recorded, how summaries group,
 * sum and bound their range, what the quota checks count, and that each function, called for another
 * tenant, sees and changes nothing — both with the other tenant's transaction (row-level security) and
 * with this tenant's transaction but the other tenant's id (the explicit tenant condition).
 */

const event = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  kind: 'chat',
  provider: 'openai',
  model: 'gpt',
  inputTokens: 1,
  outputTokens: 1,
  ...over,
});

/** Ids that sort in the order of their first digit (the summary orders by its key). */
const ordered = (digit: string) => `${digit.repeat(8)}-0000-4000-8000-${digit.repeat(12)}`;

/** A session time zone far from UTC: whatever the connection's zone, months and days are UTC ones. */
const inNewYork = async (tx: Queryable) => {
  await tx.query(sql`select set_config('timezone', 'America/New_York', true)`);
};

describe.each([...databaseKinds(), ...dataApiKinds()])('usage repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));

  /** Every usage row of the tenant, as the superuser sees it. */
  const usageRows = (tenant: TenantId) =>
    database.superuser.withSystem((tx) =>
      tx.query<Record<string, unknown>>(sql`
        select id::text, tenant_id::text, bot_id::text, chat_id::text, kind, provider, model, input_tokens,
               output_tokens, cost_usd::float8 as cost_usd, publishable_key_id::text, visitor_id, created_at
        from usage_events where tenant_id = ${tenant} order by input_tokens`),
    );

  /**
   * Records the event, then moves its created_at (the newest row of the tenant: every earlier one was
   * moved into the past) to `at`, a SQL expression or a time, as the superuser.
   */
  const recordAt = async (tenant: TenantId, e: UsageEvent, at: Date | ReturnType<typeof sql>) => {
    await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, e));
    const when = at instanceof Date ? sql`${at}::timestamptz` : at;
    await database.superuser.withSystem((tx) =>
      tx.query(sql`
        update usage_events set created_at = ${when}
        where tenant_id = ${tenant}
          and created_at = (select max(created_at) from usage_events where tenant_id = ${tenant})`),
    );
  };

  describe('recordUsage', () => {
    it('when an event is recorded with every field then each is stored, with a new id and the time', async () => {
      const tenant = await newTenant(db);
      const [botId, chatId, publishableKeyId] = [newId(), newId(), newId()];
      const before = Date.now();
      await db.withTenant(tenant, (tx) =>
        recordUsage(tx, tenant, {
          kind: 'rewrite',
          provider: 'anthropic',
          model: 'claude-x',
          inputTokens: 11,
          outputTokens: 22,
          costUsd: 0.125,
          botId,
          chatId,
          publishableKeyId,
          visitorId: 'visitor-1',
        }),
      );
      const [row, ...rest] = await usageRows(tenant);
      expect(rest).toEqual([]);
      expect(row).toMatchObject({
        tenant_id: tenant,
        bot_id: botId,
        chat_id: chatId,
        kind: 'rewrite',
        provider: 'anthropic',
        model: 'claude-x',
        input_tokens: 11,
        output_tokens: 22,
        cost_usd: 0.125,
        publishable_key_id: publishableKeyId,
        visitor_id: 'visitor-1',
      });
      expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const createdAt = (row?.created_at as Date | undefined)?.getTime() ?? 0;
      expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('when the optional fields are left out then they are null and the cost is zero; each event is its own row', async () => {
      const tenant = await newTenant(db);
      const e = event({ kind: 'embed', provider: 'local', model: 'mini', inputTokens: 5, outputTokens: 0 });
      await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, e));
      await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, { ...e, inputTokens: 6 }));
      const rows = await usageRows(tenant);
      expect(rows).toHaveLength(2);
      expect(rows[0]?.id).not.toBe(rows[1]?.id);
      for (const [i, row] of rows.entries()) {
        expect(row).toMatchObject({
          tenant_id: tenant,
          bot_id: null,
          chat_id: null,
          kind: 'embed',
          provider: 'local',
          model: 'mini',
          input_tokens: 5 + i,
          output_tokens: 0,
          cost_usd: 0,
          publishable_key_id: null,
          visitor_id: null,
        });
      }
      // Explicit nulls are the same as leaving the fields out.
      const t2 = await newTenant(db);
      await db.withTenant(t2, (tx) =>
        recordUsage(tx, t2, { ...e, botId: null, chatId: null, publishableKeyId: null, visitorId: null }),
      );
      expect(await usageRows(t2)).toEqual([
        expect.objectContaining({ bot_id: null, chat_id: null, publishable_key_id: null, visitor_id: null }),
      ]);
    });

    it("when an event is recorded for another tenant then it lands only with that tenant, and this tenant's transaction may not write it", async () => {
      const tenant = await newTenant(db);
      const other = await newTenant(db);
      await db.withTenant(other, (tx) => recordUsage(tx, other, event({ inputTokens: 3 })));
      expect(await usageRows(tenant)).toEqual([]);
      expect(await usageRows(other)).toEqual([
        expect.objectContaining({ tenant_id: other, input_tokens: 3 }),
      ]);
      await expect(
        db.withTenant(tenant, (tx) => recordUsage(tx, other, event({ inputTokens: 4 }))),
      ).rejects.toThrow();
      expect(await usageRows(tenant)).toEqual([]);
      expect(await usageRows(other)).toHaveLength(1);
    });
  });

  describe('summariseUsage', () => {
    const from = new Date('2024-03-01T00:00:00.000Z');
    const to = new Date('2024-03-03T00:00:00.000Z');
    const [bot1, bot2, key1] = [ordered('1'), ordered('2'), ordered('3')];
    let tenant: TenantId;

    beforeAll(async () => {
      tenant = await newTenant(db);
      const at = (iso: string) => new Date(iso);
      // In the range, its first instant included.
      await recordAt(
        tenant,
        event({ botId: bot1, publishableKeyId: key1, inputTokens: 10, outputTokens: 5, costUsd: 0.25 }),
        from,
      );
      await recordAt(
        tenant,
        event({ botId: bot1, inputTokens: 1, outputTokens: 2, costUsd: 0.5 }),
        at('2024-03-01T23:59:59.999Z'),
      );
      // 21:00 on March 1st in New York, but March 2nd in UTC.
      await recordAt(
        tenant,
        event({
          kind: 'embed',
          provider: 'local',
          model: 'mini',
          botId: bot2,
          publishableKeyId: key1,
          inputTokens: 100,
          outputTokens: 0,
        }),
        at('2024-03-02T02:00:00.000Z'),
      );
      await recordAt(
        tenant,
        event({ provider: 'anthropic', model: 'claude', inputTokens: 7, outputTokens: 3, costUsd: 0.125 }),
        at('2024-03-02T12:00:00.000Z'),
      );
      await recordAt(
        tenant,
        event({ kind: 'rewrite', botId: bot2, inputTokens: 4, outputTokens: 4, costUsd: 0.0625 }),
        new Date(to.getTime() - 1),
      );
      // Outside: just before the range, and its end (exclusive).
      await recordAt(
        tenant,
        event({ botId: bot1, publishableKeyId: key1, inputTokens: 1000, costUsd: 1 }),
        new Date(from.getTime() - 1),
      );
      await recordAt(
        tenant,
        event({ botId: bot1, publishableKeyId: key1, inputTokens: 2000, costUsd: 2 }),
        to,
      );
      // Another tenant's event in the range, with the same bot and key ids.
      await recordAt(
        b,
        event({ botId: bot1, publishableKeyId: key1, inputTokens: 5000, outputTokens: 5000, costUsd: 4 }),
        at('2024-03-01T12:00:00.000Z'),
      );
    });

    const summarise = (groupBy: Parameters<typeof summariseUsage>[3], range = { from, to }, t = tenant) =>
      db.withTenant(t, async (tx) => {
        await inNewYork(tx);
        return summariseUsage(tx, t, range, groupBy);
      });

    it('when grouped by day then rows are per UTC day and kind, summed and counted, in order', async () => {
      const rows = await summarise('day');
      expect(rows).toEqual([
        { key: '2024-03-01', kind: 'chat', inputTokens: 11, outputTokens: 7, costUsd: 0.75, events: 2 },
        { key: '2024-03-02', kind: 'chat', inputTokens: 7, outputTokens: 3, costUsd: 0.125, events: 1 },
        { key: '2024-03-02', kind: 'embed', inputTokens: 100, outputTokens: 0, costUsd: 0, events: 1 },
        { key: '2024-03-02', kind: 'rewrite', inputTokens: 4, outputTokens: 4, costUsd: 0.0625, events: 1 },
      ]);
      for (const row of rows) expect(typeof row.costUsd).toBe('number');
    });

    it('when grouped by bot then rows are per bot and kind, events without a bot last', async () => {
      expect(await summarise('bot')).toEqual([
        { key: bot1, kind: 'chat', inputTokens: 11, outputTokens: 7, costUsd: 0.75, events: 2 },
        { key: bot2, kind: 'embed', inputTokens: 100, outputTokens: 0, costUsd: 0, events: 1 },
        { key: bot2, kind: 'rewrite', inputTokens: 4, outputTokens: 4, costUsd: 0.0625, events: 1 },
        { key: null, kind: 'chat', inputTokens: 7, outputTokens: 3, costUsd: 0.125, events: 1 },
      ]);
    });

    it('when grouped by publishable key then rows are per key and kind, events without a key last', async () => {
      expect(await summarise('publishable_key')).toEqual([
        { key: key1, kind: 'chat', inputTokens: 10, outputTokens: 5, costUsd: 0.25, events: 1 },
        { key: key1, kind: 'embed', inputTokens: 100, outputTokens: 0, costUsd: 0, events: 1 },
        { key: null, kind: 'chat', inputTokens: 8, outputTokens: 5, costUsd: 0.625, events: 2 },
        { key: null, kind: 'rewrite', inputTokens: 4, outputTokens: 4, costUsd: 0.0625, events: 1 },
      ]);
    });

    it('when grouped by model then rows are per provider/model and kind, in order', async () => {
      expect(await summarise('model')).toEqual([
        { key: 'anthropic/claude', kind: 'chat', inputTokens: 7, outputTokens: 3, costUsd: 0.125, events: 1 },
        { key: 'local/mini', kind: 'embed', inputTokens: 100, outputTokens: 0, costUsd: 0, events: 1 },
        { key: 'openai/gpt', kind: 'chat', inputTokens: 11, outputTokens: 7, costUsd: 0.75, events: 2 },
        { key: 'openai/gpt', kind: 'rewrite', inputTokens: 4, outputTokens: 4, costUsd: 0.0625, events: 1 },
      ]);
    });

    it('when the range is moved then its start is included and its end is not', async () => {
      // Only the event one millisecond before `from`.
      expect(await summarise('bot', { from: new Date(from.getTime() - 1), to: from })).toEqual([
        { key: bot1, kind: 'chat', inputTokens: 1000, outputTokens: 1, costUsd: 1, events: 1 },
      ]);
      // Only the event at `to`.
      expect(await summarise('bot', { from: to, to: new Date(to.getTime() + 1) })).toEqual([
        { key: bot1, kind: 'chat', inputTokens: 2000, outputTokens: 1, costUsd: 2, events: 1 },
      ]);
      // Only the event at the last millisecond before `to`.
      expect(await summarise('model', { from: new Date(to.getTime() - 1), to })).toEqual([
        { key: 'openai/gpt', kind: 'rewrite', inputTokens: 4, outputTokens: 4, costUsd: 0.0625, events: 1 },
      ]);
      expect(await summarise('day', { from, to: from })).toEqual([]);
      expect(await summarise('day', { from: new Date('2020-01-01'), to: new Date('2020-02-01') })).toEqual(
        [],
      );
    });

    it("when another tenant's usage is summarised, by its own transaction or in this tenant's, then this tenant's events are not in it", async () => {
      expect(await summarise('bot', { from, to }, b)).toEqual([
        { key: bot1, kind: 'chat', inputTokens: 5000, outputTokens: 5000, costUsd: 4, events: 1 },
      ]);
      const empty = await newTenant(db);
      expect(await summarise('bot', { from, to }, empty)).toEqual([]);
      // This tenant's transaction, the empty tenant's id: neither its rows nor the other's.
      expect(await db.withTenant(tenant, (tx) => summariseUsage(tx, empty, { from, to }, 'bot'))).toEqual([]);
      expect(await db.withTenant(tenant, (tx) => summariseUsage(tx, b, { from, to }, 'model'))).toEqual([]);
    });
  });

  describe('tokensThisMonth', () => {
    it('when tokens are counted then every kind since the first instant of the UTC month counts, and nothing before', async () => {
      const tenant = await newTenant(db);
      await recordAt(
        tenant,
        event({ inputTokens: 100, outputTokens: 200 }),
        new Date('2024-02-29T23:59:59.999Z'),
      );
      await recordAt(
        tenant,
        event({ inputTokens: 3, outputTokens: 4 }),
        new Date('2024-03-01T00:00:00.000Z'),
      );
      await recordAt(
        tenant,
        event({ kind: 'embed', inputTokens: 10, outputTokens: 0 }),
        new Date('2024-03-10T00:00:00.000Z'),
      );
      await recordAt(
        b,
        event({ inputTokens: 1000, outputTokens: 1000 }),
        new Date('2024-03-05T00:00:00.000Z'),
      );
      const count = (now: Date, t = tenant) =>
        db.withTenant(t, async (tx) => {
          await inNewYork(tx);
          return tokensThisMonth(tx, t, now);
        });
      expect(await count(new Date('2024-03-15T12:00:00.000Z'))).toBe(17);
      // Still March 31st in New York, but April in UTC.
      expect(await count(new Date('2024-04-01T03:30:00.000Z'))).toBe(0);
      expect(await count(new Date('2024-02-29T23:59:59.999Z'))).toBe(317);
      const empty = await newTenant(db);
      expect(await count(new Date('2024-03-15T12:00:00.000Z'), empty)).toBe(0);
    });

    it("when another tenant's tokens are counted, by its own transaction or in this tenant's, then this tenant's are not", async () => {
      const tenant = await newTenant(db);
      const other = await newTenant(db);
      const now = new Date();
      await db.withTenant(tenant, (tx) =>
        recordUsage(tx, tenant, event({ inputTokens: 40, outputTokens: 2 })),
      );
      expect(await db.withTenant(tenant, (tx) => tokensThisMonth(tx, tenant, now))).toBe(42);
      expect(await db.withTenant(other, (tx) => tokensThisMonth(tx, other, now))).toBe(0);
      expect(await db.withTenant(tenant, (tx) => tokensThisMonth(tx, other, now))).toBe(0);
    });
  });

  describe('chatRequestsLastMinute', () => {
    it('when answers are counted then only chat events of the last minute count', async () => {
      const tenant = await newTenant(db);
      const count = (t = tenant) => db.withTenant(t, (tx) => chatRequestsLastMinute(tx, t));
      expect(await count()).toBe(0);
      await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, event()));
      await recordAt(tenant, event(), sql`now() - interval '30 seconds'`);
      await recordAt(tenant, event(), sql`now() - interval '61 seconds'`);
      await recordAt(tenant, event(), sql`now() - interval '1 hour'`);
      for (const kind of ['embed', 'rewrite', 'rerank'] as const)
        await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, event({ kind })));
      await db.withTenant(b, (tx) => recordUsage(tx, b, event()));
      expect(await count()).toBe(2);
    });

    it('when an answer is exactly one minute old then it no longer counts', async () => {
      const tenant = await newTenant(db);
      await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, event()));
      // In one transaction, so that now() is the same instant for the move and the count.
      const at = (age: ReturnType<typeof sql>) =>
        db.withTenant(tenant, async (tx) => {
          await tx.query(
            sql`update usage_events set created_at = now() - ${age} where tenant_id = ${tenant}`,
          );
          return chatRequestsLastMinute(tx, tenant);
        });
      expect(await at(sql`interval '59.999 seconds'`)).toBe(1);
      expect(await at(sql`interval '1 minute'`)).toBe(0);
    });

    it("when another tenant's answers are counted, by its own transaction or in this tenant's, then this tenant's are not", async () => {
      const tenant = await newTenant(db);
      const other = await newTenant(db);
      await db.withTenant(tenant, (tx) => recordUsage(tx, tenant, event()));
      expect(await db.withTenant(tenant, (tx) => chatRequestsLastMinute(tx, tenant))).toBe(1);
      expect(await db.withTenant(other, (tx) => chatRequestsLastMinute(tx, other))).toBe(0);
      expect(await db.withTenant(tenant, (tx) => chatRequestsLastMinute(tx, other))).toBe(0);
    });
  });

  describe('quota reservations', () => {
    const reservationRows = (tenant: TenantId) =>
      database.superuser.withSystem((tx) =>
        tx.query<{
          id: string;
          tenant_id: string;
          tokens: number;
          ttl: number;
          publishable_key_id: string | null;
          visitor_id: string | null;
        }>(sql`
          select id::text, tenant_id::text, tokens,
                 extract(epoch from expires_at - created_at)::float8 as ttl,
                 publishable_key_id::text, visitor_id
          from quota_reservations where tenant_id = ${tenant} order by tokens`),
      );

    /** The advisory locks this transaction holds, as (classid, objid) pairs. */
    const heldLocks = (tx: Queryable) =>
      tx.query<{ lock: string }>(sql`
        select classid::text || ':' || objid::text as lock from pg_locks
        where locktype = 'advisory' and granted and pid = pg_backend_pid() order by 1`);

    it('when a reservation is inserted then every field is stored, and it expires its ttl after it was made', async () => {
      const tenant = await newTenant(db);
      const [id, plain, keyId] = [newId(), newId(), newId()];
      await db.withTenant(tenant, (tx) =>
        insertReservation(tx, tenant, {
          id,
          tokens: 120,
          ttlSeconds: 90,
          publishableKeyId: keyId,
          visitorId: 'v-9',
        }),
      );
      await db.withTenant(tenant, (tx) =>
        insertReservation(tx, tenant, { id: plain, tokens: 7, ttlSeconds: 5 }),
      );
      expect(await reservationRows(tenant)).toEqual([
        { id: plain, tenant_id: tenant, tokens: 7, ttl: 5, publishable_key_id: null, visitor_id: null },
        { id, tenant_id: tenant, tokens: 120, ttl: 90, publishable_key_id: keyId, visitor_id: 'v-9' },
      ]);
    });

    it('when open reservations are counted then expired ones are deleted and the rest are counted and summed', async () => {
      const tenant = await newTenant(db);
      const open = (t = tenant) => db.withTenant(t, (tx) => openReservations(tx, t));
      expect(await open()).toEqual({ requests: 0, tokens: 0 });
      await db.withTenant(tenant, async (tx) => {
        await insertReservation(tx, tenant, { id: newId(), tokens: 5, ttlSeconds: 3600 });
        await insertReservation(tx, tenant, { id: newId(), tokens: 7, ttlSeconds: 3600 });
        await insertReservation(tx, tenant, { id: newId(), tokens: 0, ttlSeconds: 3600 });
        await insertReservation(tx, tenant, { id: newId(), tokens: 100, ttlSeconds: -1 });
        await insertReservation(tx, tenant, { id: newId(), tokens: 1000, ttlSeconds: -3600 });
      });
      // Expired a moment ago, at a millisecond this transaction's now() has already passed.
      await database.superuser.withSystem((tx) =>
        tx.query(sql`insert into quota_reservations (id, tenant_id, tokens, expires_at)
          values (${newId()}, ${tenant}, 10000, date_trunc('milliseconds', now()))`),
      );
      expect((await reservationRows(tenant)).map((r) => r.tokens)).toEqual([0, 5, 7, 100, 1000, 10000]);
      expect(await open()).toEqual({ requests: 3, tokens: 12 });
      expect((await reservationRows(tenant)).map((r) => r.tokens)).toEqual([0, 5, 7]);
      expect(await open()).toEqual({ requests: 3, tokens: 12 });
    });

    it("when another tenant's reservations are counted or deleted, by its own transaction or in this tenant's, then this tenant's are untouched", async () => {
      const tenant = await newTenant(db);
      const other = await newTenant(db);
      const [kept, expired] = [newId(), newId()];
      await db.withTenant(tenant, async (tx) => {
        await insertReservation(tx, tenant, { id: kept, tokens: 9, ttlSeconds: 3600 });
        await insertReservation(tx, tenant, { id: expired, tokens: 90, ttlSeconds: -60 });
      });
      expect(await db.withTenant(other, (tx) => openReservations(tx, other))).toEqual({
        requests: 0,
        tokens: 0,
      });
      expect(await db.withTenant(tenant, (tx) => openReservations(tx, other))).toEqual({
        requests: 0,
        tokens: 0,
      });
      await db.withTenant(other, (tx) => deleteReservation(tx, other, kept));
      await db.withTenant(tenant, (tx) => deleteReservation(tx, other, kept));
      await expect(
        db.withTenant(tenant, (tx) =>
          insertReservation(tx, other, { id: newId(), tokens: 1, ttlSeconds: 60 }),
        ),
      ).rejects.toThrow();
      expect(await reservationRows(other)).toEqual([]);
      // The expired one is still there: no call above was this tenant's own.
      expect((await reservationRows(tenant)).map((r) => r.id)).toEqual([kept, expired]);
      expect(await db.withTenant(tenant, (tx) => openReservations(tx, tenant))).toEqual({
        requests: 1,
        tokens: 9,
      });
    });

    it('when a reservation is deleted then only that one of the tenant goes', async () => {
      const tenant = await newTenant(db);
      const [first, second] = [newId(), newId()];
      await db.withTenant(tenant, async (tx) => {
        await insertReservation(tx, tenant, { id: first, tokens: 1, ttlSeconds: 3600 });
        await insertReservation(tx, tenant, { id: second, tokens: 2, ttlSeconds: 3600 });
      });
      await db.withTenant(tenant, (tx) => deleteReservation(tx, tenant, newId()));
      expect((await reservationRows(tenant)).map((r) => r.id)).toEqual([first, second]);
      await db.withTenant(tenant, (tx) => deleteReservation(tx, tenant, first));
      expect((await reservationRows(tenant)).map((r) => r.id)).toEqual([second]);
      expect(await db.withTenant(tenant, (tx) => openReservations(tx, tenant))).toEqual({
        requests: 1,
        tokens: 2,
      });
    });

    it("when the quota lock is taken then it is one lock per tenant, held until the transaction's end", async () => {
      const [first, again, both] = await asA(async (tx) => {
        await lockTenantQuota(tx, a);
        const one = await heldLocks(tx);
        await lockTenantQuota(tx, a);
        const same = await heldLocks(tx);
        await lockTenantQuota(tx, b);
        return [one, same, await heldLocks(tx)];
      });
      expect(first).toHaveLength(1);
      expect(again).toEqual(first);
      expect(both).toHaveLength(2);
      expect(both).toEqual(expect.arrayContaining(first));
      // Released at commit; the next transaction takes the same lock for the same tenant.
      expect(await asA(heldLocks)).toEqual([]);
      expect(
        await asA(async (tx) => {
          await lockTenantQuota(tx, a);
          return heldLocks(tx);
        }),
      ).toEqual(first);
    });

    it.skipIf(kind.name === 'pglite')(
      'when a transaction holds the quota lock then the same tenant waits until it commits and then sees its reservation; another tenant does not wait',
      async () => {
        const tenant = await newTenant(db);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => {
          locked = resolve;
        });
        const events: string[] = [];
        const first = db.withTenant(tenant, async (tx) => {
          await lockTenantQuota(tx, tenant);
          await insertReservation(tx, tenant, { id: newId(), tokens: 30, ttlSeconds: 3600 });
          locked();
          await gate;
          events.push('first commits');
        });
        await isLocked;
        let secondPid: number | undefined;
        const second = db.withTenant(tenant, async (tx) => {
          const [me] = await tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`);
          secondPid = me?.pid;
          await lockTenantQuota(tx, tenant);
          events.push('second locked');
          return openReservations(tx, tenant);
        });
        await db.withTenant(b, (tx) => lockTenantQuota(tx, b));
        events.push('other tenant locked');
        // The second transaction is seen waiting for its advisory lock before the first is let go.
        for (let tries = 0; ; tries++) {
          const waiting =
            secondPid === undefined
              ? []
              : await database.superuser.withSystem((tx) =>
                  tx.query(sql`select 1 from pg_locks
                    where locktype = 'advisory' and not granted and pid = ${secondPid}`),
                );
          if (waiting.length > 0) break;
          expect(tries).toBeLessThan(200);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(events).toEqual(['other tenant locked']);
        release();
        await first;
        expect(await second).toEqual({ requests: 1, tokens: 30 });
        expect(events).toEqual(['other tenant locked', 'first commits', 'second locked']);
      },
    );
  });
});

describe('usage and reservation counts without a row from the database', () => {
  // An aggregate always answers with one row; should a database answer with none, the counts are zero.
  const noRows: Queryable = { query: async () => [] };
  const tenant = newId() as TenantId;

  it('when no row comes back then tokens, answers and open reservations are zero', async () => {
    expect(await tokensThisMonth(noRows, tenant, new Date())).toBe(0);
    expect(await chatRequestsLastMinute(noRows, tenant)).toBe(0);
    expect(await openReservations(noRows, tenant)).toEqual({ requests: 0, tokens: 0 });
  });
});
