import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { QuotaExceededError } from '#shared/domain/errors.ts';
import { asTenantId, newId, type TenantId } from '#shared/domain/ids.ts';
import { insertReservation } from '#shared/repositories/quota-reservations.ts';
import { insertTenant } from '#shared/repositories/tenants.ts';
import { recordUsage } from '#shared/repositories/usage.ts';
import {
  RESERVATION_TTL_SECONDS,
  reserveQuota,
  settleReservation,
} from '#shared/usecases/answering/quota.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';

// Quota admission on its own, without an app or a provider: the boundaries of both limits, what counts
// towards them and what a refusal says. `chat-quotas.test.ts` covers the same rules through the chat
// endpoints and under concurrency.
describe.each(databaseKinds())('quota admission on $name', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await kind.create();
  });
  afterAll(async () => {
    await database.dispose();
  });

  let n = 0;
  async function tenant(quotas: { budget?: number; perMinute?: number }): Promise<TenantId> {
    const id = asTenantId(newId());
    n += 1;
    await database.db.withSystem((tx) =>
      insertTenant(tx, {
        id,
        slug: `quota-admission-${n}-${id.slice(0, 8)}`,
        name: `Quota admission ${n}`,
        monthlyTokenBudget: quotas.budget ?? null,
        requestsPerMinute: quotas.perMinute ?? null,
      }),
    );
    return id;
  }
  const use = (id: TenantId, tokens: number, kind: 'chat' | 'embed' = 'chat') =>
    database.db.withTenant(id, (tx) =>
      recordUsage(tx, id, {
        kind,
        provider: 'openai',
        model: 'gpt-4o-mini',
        inputTokens: tokens,
        outputTokens: 0,
      }),
    );
  const reserve = (id: TenantId, tokens: number, now = new Date()) =>
    database.db.withTenant(id, (tx) => reserveQuota(tx, id, tokens, now));
  const reservations = (id: TenantId) =>
    database.db.withTenant(id, (tx) =>
      tx.query<{ id: string; tokens: number; ttl: number }>(
        sql`select id, tokens, extract(epoch from expires_at - created_at)::int as ttl
            from quota_reservations where tenant_id = ${id} order by created_at`,
      ),
    );
  async function refusal(promise: Promise<unknown>): Promise<QuotaExceededError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QuotaExceededError);
    return error as QuotaExceededError;
  }
  /** This month, at `seconds` past the minute: refusals compute their Retry-After from it. */
  const atSecond = (seconds: number) => {
    const now = new Date();
    now.setUTCSeconds(seconds, 0);
    return now;
  };

  it('when the tenant has no limits then nothing is reserved and null is returned', async () => {
    const id = await tenant({});
    await use(id, 1_000_000);
    expect(await reserve(id, 500)).toBeNull();
    expect(await reservations(id)).toEqual([]);
  });

  it('when the tenant does not exist then there is nothing to reserve against', async () => {
    const missing = asTenantId(newId());
    expect(await database.db.withSystem((tx) => reserveQuota(tx, missing, 10, new Date()))).toBeNull();
  });

  it('when admitted then one reservation of the given tokens is held for the reservation TTL', async () => {
    const id = await tenant({ budget: 1000 });
    const reservation = await reserve(id, 321);
    expect(reservation).toEqual(expect.any(String));
    const rows = await reservations(id);
    expect(rows).toEqual([{ id: reservation, tokens: 321, ttl: RESERVATION_TTL_SECONDS }]);
    expect(RESERVATION_TTL_SECONDS).toBe(900);
  });

  it('when the tokens used equal the monthly budget then refused naming budget and usage; one under then admitted', async () => {
    const at = await tenant({ budget: 100 });
    await use(at, 100);
    const now = atSecond(30);
    const error = await refusal(reserve(at, 10, now));
    expect(error.status).toBe(429);
    expect(error.message).toBe("This tenant's monthly budget of 100 tokens is used up (100 used).");
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    expect(error.retryAfterSeconds).toBe(Math.ceil((nextMonth - now.getTime()) / 1000));
    expect(await reservations(at)).toEqual([]);

    const under = await tenant({ budget: 100 });
    await use(under, 99);
    expect(await reserve(under, 10)).toEqual(expect.any(String));
  });

  it('when requests in progress hold the rest of the budget then the next request is refused, saying so', async () => {
    const id = await tenant({ budget: 100 });
    await use(id, 40);
    const first = await reserve(id, 60);
    expect(first).toEqual(expect.any(String));
    const error = await refusal(reserve(id, 1));
    expect(error.message).toBe(
      "This tenant's monthly budget of 100 tokens is used up (100 used, counting the requests in progress).",
    );
    // Settling gives the reservation back: the next request fits again.
    await database.db.withTenant(id, (tx) => settleReservation(tx, id, first));
    expect(await reservations(id)).toEqual([]);
    expect(await reserve(id, 1)).toEqual(expect.any(String));
  });

  it('when a reservation has expired then it no longer counts and is removed', async () => {
    const id = await tenant({ budget: 100 });
    await database.db.withTenant(id, (tx) =>
      insertReservation(tx, id, { id: newId(), tokens: 100, ttlSeconds: -1 }),
    );
    const admitted = await reserve(id, 5);
    expect(admitted).toEqual(expect.any(String));
    expect((await reservations(id)).map((r) => r.id)).toEqual([admitted]);
  });

  it('when the chat requests of the last minute equal requests_per_minute then refused; one under then admitted', async () => {
    const at = await tenant({ perMinute: 2 });
    await use(at, 1);
    await use(at, 1);
    const error = await refusal(reserve(at, 10, atSecond(17)));
    expect(error.message).toBe(
      "This tenant's limit of 2 chat requests per minute is reached. Try again shortly.",
    );
    expect(error.retryAfterSeconds).toBe(43);
    expect(await reservations(at)).toEqual([]);

    const under = await tenant({ perMinute: 2 });
    await use(under, 1);
    await use(under, 1, 'embed'); // only chat answers count
    expect(await reserve(under, 10)).toEqual(expect.any(String));
  });

  it('when requests in progress fill the minute then the next is refused; at second 0 it retries after 60 seconds', async () => {
    const id = await tenant({ perMinute: 1 });
    expect(await reserve(id, 10)).toEqual(expect.any(String));
    const error = await refusal(reserve(id, 10, atSecond(0)));
    expect(error.retryAfterSeconds).toBe(60);
  });

  it('when only one limit is set then the other is not applied', async () => {
    const budgetOnly = await tenant({ budget: 1_000_000 });
    for (let i = 0; i < 3; i++) await use(budgetOnly, 1);
    expect(await reserve(budgetOnly, 10)).toEqual(expect.any(String));

    const perMinuteOnly = await tenant({ perMinute: 100 });
    await use(perMinuteOnly, 5_000_000);
    expect(await reserve(perMinuteOnly, 10)).toEqual(expect.any(String));
  });

  it('when a reservation is settled then only that reservation of that tenant is removed; null settles nothing', async () => {
    const a = await tenant({ budget: 1000 });
    const b = await tenant({ budget: 1000 });
    const a1 = await reserve(a, 1);
    const a2 = await reserve(a, 2);
    const b1 = await reserve(b, 3);
    await database.db.withTenant(a, (tx) => settleReservation(tx, a, a1));
    await database.db.withTenant(a, (tx) => settleReservation(tx, a, null));
    expect((await reservations(a)).map((r) => r.id)).toEqual([a2]);
    expect((await reservations(b)).map((r) => r.id)).toEqual([b1]);
  });
});
