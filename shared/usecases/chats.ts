import { requireScope } from '../auth/authorize.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import type { Chat, Message } from '../domain/chat.ts';
import { NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import { findBot } from '../repositories/bots.ts';
import { deleteChat, findChat, insertChat, listChats, listMessages } from '../repositories/chats.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';

export async function createChat(
  auth: AuthContext,
  input: { botId: string; title?: string | undefined },
  deps: { db: Database },
): Promise<Chat> {
  requireScope(auth, 'chat');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    // Another tenant's bot id is "not found", exactly like a missing one.
    if (!(await findBot(tx, auth.tenantId, input.botId))) throw new NotFoundError('Bot');
    return insertChat(tx, auth.tenantId, {
      id: newId(),
      botId: input.botId,
      userId: auth.userId ?? null,
      title: input.title ?? null,
    });
  });
}

export function listTenantChats(
  auth: AuthContext,
  filter: { botId?: string | undefined },
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<Chat>> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, (tx) => listChats(tx, auth.tenantId, filter, page));
}

export async function getChatWithMessages(
  auth: AuthContext,
  id: string,
  deps: { db: Database },
): Promise<{ chat: Chat; messages: Message[] }> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const chat = await findChat(tx, auth.tenantId, id);
    if (!chat) throw new NotFoundError('Chat');
    return { chat, messages: await listMessages(tx, auth.tenantId, id, 1000) };
  });
}

export async function removeChat(auth: AuthContext, id: string, deps: { db: Database }): Promise<void> {
  requireScope(auth, 'chat');
  const deleted = await deps.db.withTenant(auth.tenantId, (tx) => deleteChat(tx, auth.tenantId, id));
  if (!deleted) throw new NotFoundError('Chat');
}
