import { requireScope } from '../auth/authorize.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { ValidationError } from '../domain/errors.ts';
import type { UsageGrouping } from '../domain/usage.ts';
import type { Database } from '../ports/database.ts';
import { type FeedbackSummaryRow, summariseFeedback } from '../repositories/feedback.ts';
import { summariseUsage, type UsageRow } from '../repositories/usage.ts';

const MAX_RANGE_DAYS = 366;

/**
 * The tenant's usage between two instants (default: the last 30 days), grouped by day, bot or model, and
 * the ratings its answers got per bot.
 */
export async function tenantUsage(
  auth: AuthContext,
  query: { from?: Date | undefined; to?: Date | undefined; groupBy: UsageGrouping },
  deps: { db: Database; now?: () => Date },
): Promise<{ from: Date; to: Date; rows: UsageRow[]; feedback: FeedbackSummaryRow[] }> {
  requireScope(auth, 'read');
  const to = query.to ?? deps.now?.() ?? new Date();
  const from = query.from ?? new Date(to.getTime() - 30 * 86_400_000);
  if (from >= to) throw new ValidationError('`from` must be before `to`.');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    throw new ValidationError(`The range may span at most ${MAX_RANGE_DAYS} days.`);
  }
  return deps.db.withTenant(auth.tenantId, async (tx) => ({
    from,
    to,
    rows: await summariseUsage(tx, auth.tenantId, { from, to }, query.groupBy),
    // Ratings per bot whatever the grouping: answers are judged per bot.
    feedback: await summariseFeedback(tx, auth.tenantId, { from, to }),
  }));
}
