import { type SqlFragment, sql } from '../db/sql.ts';
import { newId, type TenantId } from '../domain/ids.ts';
import type { UsageEvent, UsageGrouping, UsageKind } from '../domain/usage.ts';
import type { Queryable } from '../ports/database.ts';

export async function recordUsage(tx: Queryable, tenantId: TenantId, e: UsageEvent): Promise<void> {
  await tx.query(sql`
    insert into usage_events (id, tenant_id, bot_id, chat_id, kind, provider, model, input_tokens, output_tokens, cost_usd,
                              publishable_key_id, visitor_id)
    values (${newId()}, ${tenantId}, ${e.botId ?? null}, ${e.chatId ?? null}, ${e.kind}, ${e.provider}, ${e.model},
            ${e.inputTokens}, ${e.outputTokens}, ${e.costUsd ?? 0}, ${e.publishableKeyId ?? null}, ${e.visitorId ?? null})`);
}

export interface UsageRow {
  readonly key: string | null;
  readonly kind: UsageKind;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly events: number;
}

export async function summariseUsage(
  tx: Queryable,
  tenantId: TenantId,
  range: { from: Date; to: Date },
  groupBy: UsageGrouping,
): Promise<UsageRow[]> {
  const key: SqlFragment =
    groupBy === 'day'
      ? sql`to_char(date_trunc('day', created_at at time zone 'UTC'), 'YYYY-MM-DD')`
      : groupBy === 'bot'
        ? sql`bot_id::text`
        : groupBy === 'publishable_key'
          ? sql`publishable_key_id::text`
          : sql`provider || '/' || model`;
  const rows = await tx.query<{
    key: string | null;
    kind: UsageKind;
    input_tokens: number;
    output_tokens: number;
    cost_usd: string | number;
    events: number;
  }>(sql`
    select ${key} as key, kind, sum(input_tokens)::int as input_tokens, sum(output_tokens)::int as output_tokens,
           sum(cost_usd)::float8 as cost_usd, count(*)::int as events
    from usage_events
    where tenant_id = ${tenantId} and created_at >= ${range.from} and created_at < ${range.to}
    group by 1, 2 order by 1, 2`);
  return rows.map((r) => ({
    key: r.key,
    kind: r.kind,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: Number(r.cost_usd),
    events: r.events,
  }));
}

/** Tokens used this calendar month (UTC): what the monthly budget is checked against. */
export async function tokensThisMonth(tx: Queryable, tenantId: TenantId, now: Date): Promise<number> {
  const [row] = await tx.query<{ n: number }>(sql`
    select coalesce(sum(input_tokens + output_tokens), 0)::int as n from usage_events
    where tenant_id = ${tenantId} and created_at >= date_trunc('month', ${now}::timestamptz at time zone 'UTC') at time zone 'UTC'`);
  return row?.n ?? 0;
}

/** Answers generated for the tenant in the last minute: what the requests-per-minute quota counts. */
export async function chatRequestsLastMinute(tx: Queryable, tenantId: TenantId): Promise<number> {
  const [row] = await tx.query<{ n: number }>(sql`
    select count(*)::int as n from usage_events
    where tenant_id = ${tenantId} and kind = 'chat' and created_at > now() - interval '1 minute'`);
  return row?.n ?? 0;
}
