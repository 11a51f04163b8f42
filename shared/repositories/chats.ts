import { sql } from '../db/sql.ts';
import type { Chat, Citation, Message, MessageStatus } from '../domain/chat.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface ChatRow {
  id: string;
  bot_id: string;
  user_id: string | null;
  title: string | null;
  visitor_id: string | null;
  publishable_key_id: string | null;
  created_at: Date;
  updated_at: Date;
}

interface MessageRow {
  id: string;
  chat_id: string;
  role: 'user' | 'assistant';
  content: string;
  citations: Citation[];
  status: MessageStatus;
  input_tokens: number;
  output_tokens: number;
  created_at: Date;
}

const CHAT_COLUMNS = sql`id, bot_id, user_id, title, visitor_id, publishable_key_id, created_at, updated_at`;

const toChat = (r: ChatRow): Chat => ({
  id: r.id,
  botId: r.bot_id,
  userId: r.user_id,
  title: r.title,
  visitorId: r.visitor_id,
  publishableKeyId: r.publishable_key_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  chatId: r.chat_id,
  role: r.role,
  content: r.content,
  citations: r.citations,
  status: r.status,
  inputTokens: r.input_tokens,
  outputTokens: r.output_tokens,
  createdAt: r.created_at,
});

export async function insertChat(
  tx: Queryable,
  tenantId: TenantId,
  c: {
    id: string;
    botId: string;
    userId: string | null;
    title: string | null;
    visitorId?: string | null;
    publishableKeyId?: string | null;
  },
): Promise<Chat> {
  const [row] = await tx.query<ChatRow>(sql`
    insert into chats (id, tenant_id, bot_id, user_id, title, visitor_id, publishable_key_id)
    values (${c.id}, ${tenantId}, ${c.botId}, ${c.userId}, ${c.title}, ${c.visitorId ?? null}, ${c.publishableKeyId ?? null})
    returning ${CHAT_COLUMNS}`);
  return toChat(row!);
}

export async function findChat(tx: Queryable, tenantId: TenantId, id: string): Promise<Chat | null> {
  const [row] = await tx.query<ChatRow>(sql`
    select ${CHAT_COLUMNS} from chats where tenant_id = ${tenantId} and id = ${id}`);
  return row ? toChat(row) : null;
}

export async function listChats(
  tx: Queryable,
  tenantId: TenantId,
  filter: { botId?: string | undefined },
  page: PageRequest,
): Promise<Page<Chat>> {
  const byBot = filter.botId ? sql` and bot_id = ${filter.botId}` : sql``;
  const rows = await tx.query<ChatRow>(sql`
    select ${CHAT_COLUMNS} from chats
    where tenant_id = ${tenantId} ${byBot} ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toChat), page.limit);
}

export async function deleteChat(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(
    sql`delete from chats where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  return rows.length > 0;
}

/**
 * `clock_timestamp()`, not the transaction's `now()`: a question and its answer are saved in one
 * transaction and must still sort in the order they were written. Nor earlier than the chat's latest message
 * (then 1 µs after it): PGlite's clock ticks in milliseconds, so an answer saved in the question's
 * millisecond would otherwise tie with it and the random id would decide which comes first.
 */
export async function insertMessage(
  tx: Queryable,
  tenantId: TenantId,
  m: Omit<Message, 'createdAt'>,
): Promise<Message> {
  const [row] = await tx.query<MessageRow>(sql`
    insert into messages (id, tenant_id, chat_id, role, content, citations, status, input_tokens, output_tokens,
                          created_at)
    values (${m.id}, ${tenantId}, ${m.chatId}, ${m.role}, ${m.content}, ${m.citations}::jsonb, ${m.status},
            ${m.inputTokens}, ${m.outputTokens},
            greatest(clock_timestamp(), (select max(created_at) + interval '1 microsecond' from messages
                                         where tenant_id = ${tenantId} and chat_id = ${m.chatId})))
    returning id, chat_id, role, content, citations, status, input_tokens, output_tokens, created_at`);
  await tx.query(sql`update chats set updated_at = now() where tenant_id = ${tenantId} and id = ${m.chatId}`);
  return toMessage(row!);
}

/** The whole conversation, oldest first. */
export async function listMessages(
  tx: Queryable,
  tenantId: TenantId,
  chatId: string,
  limit = 200,
): Promise<Message[]> {
  const rows = await tx.query<MessageRow>(sql`
    select * from (
      select id, chat_id, role, content, citations, status, input_tokens, output_tokens, created_at from messages
      where tenant_id = ${tenantId} and chat_id = ${chatId} order by created_at desc, id desc limit ${limit}
    ) recent order by created_at, id`);
  return rows.map(toMessage);
}

/** One message of a chat (another chat's message id is not found). */
export async function findMessage(
  tx: Queryable,
  tenantId: TenantId,
  chatId: string,
  id: string,
): Promise<Message | null> {
  const [row] = await tx.query<MessageRow>(sql`
    select id, chat_id, role, content, citations, status, input_tokens, output_tokens, created_at from messages
    where tenant_id = ${tenantId} and chat_id = ${chatId} and id = ${id}`);
  return row ? toMessage(row) : null;
}
