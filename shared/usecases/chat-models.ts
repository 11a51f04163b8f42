import { hasScope } from '../auth/authorize.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import type { BotProfile } from '../domain/bot.ts';
import { ForbiddenError, NotFoundError } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import { findBot, listBots } from '../repositories/bots.ts';

/**
 * A tenant's bots seen as the models of the OpenAI-compatible API (`model` = bot id), so tools that
 * list models before they chat can discover them. A credential that may chat may list what it can
 * chat with, as one that may read.
 */
function requireModelAccess(auth: AuthContext): void {
  if (!hasScope(auth, 'read') && !hasScope(auth, 'chat'))
    throw new ForbiddenError("This credential lacks the 'read' or 'chat' scope needed to list models.");
}

const PAGE = 100;

/** Every bot of the tenant, oldest first (OpenAI's model list has no pages). */
export async function listChatModels(auth: AuthContext, deps: { db: Database }): Promise<BotProfile[]> {
  requireModelAccess(auth);
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const bots: BotProfile[] = [];
    let cursor: string | undefined;
    do {
      const page = await listBots(tx, auth.tenantId, { limit: PAGE, cursor });
      bots.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return bots;
  });
}

export async function getChatModel(
  auth: AuthContext,
  id: string,
  deps: { db: Database },
): Promise<BotProfile> {
  requireModelAccess(auth);
  // Clients ask for names like 'gpt-4o' too: that is a model this tenant does not have, not bad input.
  const bot = isUuid(id)
    ? await deps.db.withTenant(auth.tenantId, (tx) => findBot(tx, auth.tenantId, id))
    : null;
  if (!bot) throw new NotFoundError('Model');
  return bot;
}
