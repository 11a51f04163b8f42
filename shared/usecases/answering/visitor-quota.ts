import { QuotaExceededError } from '../../domain/errors.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Visitor } from '../../domain/publishable-key.ts';
import type { Queryable } from '../../ports/database.ts';
import {
  keyTokensThisMonth,
  openKeyReservationTokens,
  recentPublicRequests,
} from '../../repositories/publishable-keys.ts';

/**
 * Seconds until the oldest counted request leaves the one-minute window, between 1 and 60: `now` was read when
 * this request began, and requests admitted while it waited for the lock can be stamped later than that.
 */
const untilWindowFrees = (oldest: Date | null, now: Date): number =>
  oldest ? Math.min(60, Math.max(1, Math.ceil((oldest.getTime() + 60_000 - now.getTime()) / 1000))) : 60;

/**
 * A website visitor's request against its publishable key's limits. Runs under the tenant's quota lock
 * (see reserveQuota), so the counts include every request admitted before this one and concurrent
 * requests cannot all pass on the same count.
 */
export async function admitVisitor(
  tx: Queryable,
  tenantId: TenantId,
  visitor: Visitor,
  now: Date,
): Promise<void> {
  const keyId = visitor.publishableKeyId;
  if (visitor.perVisitorPerMinute !== null) {
    const recent = await recentPublicRequests(tx, tenantId, { keyId, visitorId: visitor.visitorId });
    if (recent.count >= visitor.perVisitorPerMinute) {
      throw new QuotaExceededError(
        `You can send ${visitor.perVisitorPerMinute} messages a minute here. Try again shortly.`,
        { retryAfterSeconds: untilWindowFrees(recent.oldest, now) },
      );
    }
  }
  if (visitor.perKeyPerMinute !== null) {
    const recent = await recentPublicRequests(tx, tenantId, { keyId });
    if (recent.count >= visitor.perKeyPerMinute) {
      throw new QuotaExceededError('This assistant is busy right now. Try again shortly.', {
        retryAfterSeconds: untilWindowFrees(recent.oldest, now),
      });
    }
  }
  if (visitor.monthlyTokenBudget !== null) {
    const used =
      (await keyTokensThisMonth(tx, tenantId, keyId, now)) +
      (await openKeyReservationTokens(tx, tenantId, keyId));
    if (used >= visitor.monthlyTokenBudget) {
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      throw new QuotaExceededError("This assistant's monthly allowance is used up.", {
        retryAfterSeconds: Math.ceil((nextMonth - now.getTime()) / 1000),
      });
    }
  }
}
