import { QuotaExceededError } from '../../domain/errors.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { Queryable } from '../../ports/database.ts';
import { findTenantById } from '../../repositories/tenants.ts';
import { chatRequestsLastMinute, tokensThisMonth } from '../../repositories/usage.ts';

/** Refuses (429) before any provider is called when the tenant's budget or rate limit is used up. */
export async function assertWithinQuota(tx: Queryable, tenantId: TenantId, now: Date): Promise<void> {
  const tenant = await findTenantById(tx, tenantId);
  if (!tenant) return;
  if (tenant.requestsPerMinute !== null) {
    const recent = await chatRequestsLastMinute(tx, tenantId);
    if (recent >= tenant.requestsPerMinute) {
      throw new QuotaExceededError(
        `This tenant's limit of ${tenant.requestsPerMinute} chat requests per minute is reached. Try again shortly.`,
        { retryAfterSeconds: 60 - now.getUTCSeconds() || 60 },
      );
    }
  }
  if (tenant.monthlyTokenBudget !== null) {
    const used = await tokensThisMonth(tx, tenantId, now);
    if (used >= tenant.monthlyTokenBudget) {
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      throw new QuotaExceededError(
        `This tenant's monthly budget of ${tenant.monthlyTokenBudget} tokens is used up (${used} used).`,
        { retryAfterSeconds: Math.ceil((nextMonth - now.getTime()) / 1000) },
      );
    }
  }
}
