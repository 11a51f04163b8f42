import { sql } from '../db/sql.ts';
import type { AnswerTrace } from '../domain/answer-trace.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';

/** What the jsonb column holds: the trace without the keys that have columns of their own. */
type TraceBody = Omit<AnswerTrace, 'messageId' | 'chatId' | 'botId' | 'status' | 'createdAt'>;

interface TraceRow {
  message_id: string;
  chat_id: string;
  bot_id: string;
  status: AnswerTrace['status'];
  trace: TraceBody;
  created_at: Date;
}

export async function insertTrace(tx: Queryable, tenantId: TenantId, t: AnswerTrace): Promise<void> {
  const { messageId, chatId, botId, status, createdAt: _, ...body } = t;
  await tx.query(sql`
    insert into answer_traces (message_id, tenant_id, chat_id, bot_id, status, trace)
    values (${messageId}, ${tenantId}, ${chatId}, ${botId}, ${status}, ${body}::jsonb)`);
}

/** One answer's trace, looked up within its chat (another chat's message id is not found). */
export async function findTrace(
  tx: Queryable,
  tenantId: TenantId,
  chatId: string,
  messageId: string,
): Promise<AnswerTrace | null> {
  const [row] = await tx.query<TraceRow>(sql`
    select message_id, chat_id, bot_id, status, trace, created_at from answer_traces
    where tenant_id = ${tenantId} and chat_id = ${chatId} and message_id = ${messageId}`);
  if (!row) return null;
  return {
    ...row.trace,
    messageId: row.message_id,
    chatId: row.chat_id,
    botId: row.bot_id,
    status: row.status,
    createdAt: row.created_at,
  };
}
