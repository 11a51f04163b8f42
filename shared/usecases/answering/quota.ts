import { QuotaExceededError } from '../../domain/errors.ts';
import { newId, type TenantId } from '../../domain/ids.ts';
import type { Visitor } from '../../domain/publishable-key.ts';
import type { Tenant } from '../../domain/tenant.ts';
import type { Queryable } from '../../ports/database.ts';
import {
  deleteReservation,
  insertReservation,
  lockTenantQuota,
  openReservations,
} from '../../repositories/quota-reservations.ts';
import { findTenantById } from '../../repositories/tenants.ts';
import { chatRequestsLastMinute, tokensThisMonth } from '../../repositories/usage.ts';
import { admitVisitor } from './visitor-quota.ts';

/**
 * How long a reservation counts if its request never settles (the process died mid-answer): longer than
 * any answer streams (a Lambda runs at most 15 minutes).
 */
export const RESERVATION_TTL_SECONDS = 15 * 60;

/**
 * Admits a chat request (reserving `tokens`, an upper estimate of what it will bill) or refuses it with
 * 429 before any provider is called. Requests in progress count with their reservations, and the check
 * and the reservation happen under a per-tenant lock, so concurrent requests cannot all pass on the same
 * count: the budget is overrun by at most the last admitted request's reservation, and no more than
 * `requests_per_minute` requests are admitted per minute. Returns the reservation to settle or release,
 * or null for a tenant without limits. A website visitor's request is also held to its publishable key's
 * limits (per visitor and per key per minute, the key's monthly budget), checked under the same lock.
 */
export async function reserveQuota(
  tx: Queryable,
  tenantId: TenantId,
  tokens: number,
  now: Date,
  visitor?: Visitor,
): Promise<string | null> {
  const tenant = await findTenantById(tx, tenantId);
  const keyLimited =
    visitor !== undefined &&
    (visitor.perVisitorPerMinute !== null ||
      visitor.perKeyPerMinute !== null ||
      visitor.monthlyTokenBudget !== null);
  if (!tenant || (tenant.requestsPerMinute === null && tenant.monthlyTokenBudget === null && !keyLimited))
    return null;
  await lockTenantQuota(tx, tenantId);
  try {
    await admitTenant(tx, tenantId, tenant, now);
  } catch (error) {
    // A website visitor is not told about the tenant's plan: the same refusal, in words for them.
    if (visitor && error instanceof QuotaExceededError) {
      throw new QuotaExceededError('This assistant is not available right now. Try again later.', {
        retryAfterSeconds: error.retryAfterSeconds ?? 60,
      });
    }
    throw error;
  }
  if (visitor) await admitVisitor(tx, tenantId, visitor, now);
  const id = newId();
  await insertReservation(tx, tenantId, {
    id,
    tokens,
    ttlSeconds: RESERVATION_TTL_SECONDS,
    publishableKeyId: visitor?.publishableKeyId ?? null,
    visitorId: visitor?.visitorId ?? null,
  });
  return id;
}

/** The tenant's own limits: requests per minute and the monthly token budget. */
async function admitTenant(tx: Queryable, tenantId: TenantId, tenant: Tenant, now: Date): Promise<void> {
  const open = await openReservations(tx, tenantId);
  if (tenant.requestsPerMinute !== null) {
    const recent = (await chatRequestsLastMinute(tx, tenantId)) + open.requests;
    if (recent >= tenant.requestsPerMinute) {
      throw new QuotaExceededError(
        `This tenant's limit of ${tenant.requestsPerMinute} chat requests per minute is reached. Try again shortly.`,
        { retryAfterSeconds: 60 - now.getUTCSeconds() || 60 },
      );
    }
  }
  if (tenant.monthlyTokenBudget !== null) {
    const used = (await tokensThisMonth(tx, tenantId, now)) + open.tokens;
    if (used >= tenant.monthlyTokenBudget) {
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      const inProgress = open.requests > 0 ? ', counting the requests in progress' : '';
      throw new QuotaExceededError(
        `This tenant's monthly budget of ${tenant.monthlyTokenBudget} tokens is used up (${used} used${inProgress}).`,
        { retryAfterSeconds: Math.ceil((nextMonth - now.getTime()) / 1000) },
      );
    }
  }
}

/** Gives a reservation back: in the transaction that records the request's real usage, or on failure. */
export async function settleReservation(tx: Queryable, tenantId: TenantId, id: string | null): Promise<void> {
  if (id) await deleteReservation(tx, tenantId, id);
}
