import { hashPublishableKey, looksLikePublishableKey } from '../auth/publishable-key.ts';
import { signVisitorToken, verifyVisitorToken } from '../auth/visitor-token.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import type { Chat, Message } from '../domain/chat.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../domain/errors.ts';
import { asTenantId, isUuid, newId, type TenantId } from '../domain/ids.ts';
import { originAllowed, type PublishableKey, type Visitor } from '../domain/publishable-key.ts';
import type { Database, Queryable } from '../ports/database.ts';
import { findBot } from '../repositories/bots.ts';
import { findChat, insertChat, listMessages } from '../repositories/chats.ts';
import {
  findPublishableKey,
  findPublishableKeyByHash,
  touchPublishableKey,
} from '../repositories/publishable-keys.ts';
import { enterTenant } from '../repositories/tenant-scope.ts';
import { findTenantById } from '../repositories/tenants.ts';

export interface VisitorDeps {
  readonly db: Database;
  readonly jwtSigningKey: string;
  readonly visitorTokenTtlSeconds: number;
}

const INVALID_KEY = 'The publishable key is missing, malformed or revoked.';
const INVALID_TOKEN = 'The visitor token is missing, malformed, expired or revoked. Start a new session.';
const ORIGIN_REFUSED =
  "This website's origin is not among the publishable key's allowed origins (exact scheme, host and port).";

/** A key is usable when it is not revoked, its tenant is active and the request comes from an allowed origin. */
async function assertUsable(
  tx: Queryable,
  key: PublishableKey | null,
  origin: string | undefined,
  invalid: string,
): Promise<PublishableKey> {
  if (!key || key.revokedAt) throw new UnauthorizedError(invalid);
  const tenant = await findTenantById(tx, key.tenantId);
  if (!tenant) throw new UnauthorizedError(invalid);
  if (tenant.status === 'suspended') throw new ForbiddenError('This assistant is not available.');
  if (!originAllowed(key, origin)) throw new ForbiddenError(ORIGIN_REFUSED);
  return key;
}

/** The key a public request names, checked for revocation and origin (the CORS preflight asks this too). */
export function resolvePublishableKey(
  key: string | undefined,
  origin: string | undefined,
  deps: Pick<VisitorDeps, 'db'>,
): Promise<PublishableKey> {
  if (!key || !looksLikePublishableKey(key)) {
    return Promise.reject(
      new UnauthorizedError(`${INVALID_KEY} Send it as Authorization: Bearer mrag_pk_….`),
    );
  }
  const hash = hashPublishableKey(key);
  return deps.db.withSettings({ 'app.publishable_key_hash': hash }, async (tx) => {
    const found = await findPublishableKeyByHash(tx, hash);
    if (found) await enterTenant(tx, found.tenantId);
    return assertUsable(tx, found, origin, INVALID_KEY);
  });
}

export interface VisitorSession {
  readonly token: string;
  readonly expiresAt: Date;
  readonly visitorId: string;
  readonly bot: { readonly id: string; readonly name: string };
}

/** A website visitor's session: a short-lived token bound to (tenant, bot, key, a new visitor id). */
export async function startVisitorSession(
  key: string | undefined,
  origin: string | undefined,
  deps: VisitorDeps,
): Promise<VisitorSession> {
  const found = await resolvePublishableKey(key, origin, deps);
  const tenantId = asTenantId(found.tenantId);
  const bot = await deps.db.withTenant(tenantId, async (tx) => {
    await touchPublishableKey(tx, tenantId, found.id);
    return findBot(tx, tenantId, found.botId);
  });
  if (!bot) throw new UnauthorizedError(INVALID_KEY);
  const visitorId = newId();
  const signed = await signVisitorToken(
    { tenantId, botId: bot.id, keyId: found.id, visitorId },
    deps.jwtSigningKey,
    deps.visitorTokenTtlSeconds,
  );
  return { ...signed, visitorId, bot: { id: bot.id, name: bot.name } };
}

/**
 * The visitor behind a visitor token, as an AuthContext that can only chat (and only in its own chats,
 * see prepareAnswer). The key is read again on every request: revoking it or removing the origin stops
 * its visitors at once.
 */
export async function authenticateVisitor(
  token: string | undefined,
  origin: string | undefined,
  deps: VisitorDeps,
): Promise<AuthContext> {
  const claims = token ? await verifyVisitorToken(token, deps.jwtSigningKey) : null;
  if (!claims || !isUuid(claims.tid) || !isUuid(claims.pk)) throw new UnauthorizedError(INVALID_TOKEN);
  const tenantId = asTenantId(claims.tid);
  const key = await deps.db.withTenant(tenantId, async (tx) =>
    assertUsable(tx, await findPublishableKey(tx, tenantId, claims.pk), origin, INVALID_TOKEN),
  );
  if (key.botId !== claims.bot) throw new UnauthorizedError(INVALID_TOKEN);
  const visitor: Visitor = {
    visitorId: claims.vid,
    botId: key.botId,
    publishableKeyId: key.id,
    perVisitorPerMinute: key.perVisitorPerMinute,
    perKeyPerMinute: key.perKeyPerMinute,
    monthlyTokenBudget: key.monthlyTokenBudget,
  };
  return {
    tenantId,
    userId: undefined,
    tokenId: undefined,
    isServiceAccount: false,
    role: 'member',
    scopes: ['chat'],
    visitor,
  };
}

function visitorOf(auth: AuthContext): Visitor {
  if (!auth.visitor) throw new ForbiddenError('Only a website visitor token may use the public routes.');
  return auth.visitor;
}

/** A visitor's chat with the key's bot; it shows in the tenant's chat list with the visitor marker. */
export function createVisitorChat(
  auth: AuthContext,
  input: { title?: string | undefined },
  deps: Pick<VisitorDeps, 'db'>,
): Promise<Chat> {
  const visitor = visitorOf(auth);
  return deps.db.withTenant(auth.tenantId, (tx) =>
    insertChat(tx, auth.tenantId, {
      id: newId(),
      botId: visitor.botId,
      userId: null,
      title: input.title ?? null,
      visitorId: visitor.visitorId,
      publishableKeyId: visitor.publishableKeyId,
    }),
  );
}

/** One of the visitor's own chats; any other chat id (another visitor's, a member's) is not found. */
export async function getVisitorChat(
  auth: AuthContext,
  id: string,
  deps: Pick<VisitorDeps, 'db'>,
): Promise<{ chat: Chat; messages: Message[] }> {
  const visitor = visitorOf(auth);
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    const chat = await findChat(tx, auth.tenantId as TenantId, id);
    if (
      !chat ||
      chat.visitorId !== visitor.visitorId ||
      chat.publishableKeyId !== visitor.publishableKeyId ||
      chat.botId !== visitor.botId
    ) {
      throw new NotFoundError('Chat');
    }
    return { chat, messages: await listMessages(tx, auth.tenantId, id, 200) };
  });
}
