import { requireScope } from '../auth/authorize.ts';
import { generatePublishableKey } from '../auth/publishable-key.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { ANY_ORIGIN, normalizeOrigin, type PublishableKey } from '../domain/publishable-key.ts';
import type { Database } from '../ports/database.ts';
import { findBot } from '../repositories/bots.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import {
  findPublishableKey,
  insertPublishableKey,
  listPublishableKeys,
  revokePublishableKey,
} from '../repositories/publishable-keys.ts';

export interface CreatePublishableKeyInput {
  readonly name?: string | undefined;
  readonly allowedOrigins: readonly string[];
  readonly perVisitorPerMinute?: number | undefined;
  readonly perKeyPerMinute?: number | undefined;
  readonly monthlyTokenBudget?: number | undefined;
}

export const ANY_ORIGIN_WARNING =
  "allowed_origins is '*': any website can embed this bot with this key. Only the key's rate limits and " +
  'monthly budget, and the tenant’s, bound what it costs you; list your sites instead where you can.';

const isLoopback = (origin: string) => /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(origin);

/**
 * Checks and normalises the origins a key is used from: exact `scheme://host[:port]` values, or an explicit
 * `*` alone. Returns them with the warnings the caller should see.
 */
export function allowedOriginsOf(values: readonly string[]): { origins: string[]; warnings: string[] } {
  if (values.includes(ANY_ORIGIN)) {
    if (values.length > 1) {
      throw new ValidationError("allowed_origins: '*' allows every origin; give it alone or list origins.");
    }
    return { origins: [ANY_ORIGIN], warnings: [ANY_ORIGIN_WARNING] };
  }
  const origins: string[] = [];
  const warnings: string[] = [];
  for (const [i, value] of values.entries()) {
    const origin = normalizeOrigin(value);
    if (!origin) {
      throw new ValidationError(
        `allowed_origins[${i}] must be an origin such as https://help.example.com (scheme, host and optional port; no path, no wildcard other than '*' alone).`,
      );
    }
    if (origin.startsWith('http:') && !isLoopback(origin)) {
      warnings.push(`${origin} is not HTTPS: visitor tokens from it travel unencrypted.`);
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return { origins, warnings };
}

/** A key that lets browsers on the given origins chat with one bot (and do nothing else). */
export async function createPublishableKey(
  auth: AuthContext,
  botId: string,
  input: CreatePublishableKeyInput,
  deps: { db: Database },
): Promise<{ key: PublishableKey; secret: string; warnings: string[] }> {
  requireScope(auth, 'bots:write');
  const { origins, warnings } = allowedOriginsOf(input.allowedOrigins);
  const generated = generatePublishableKey();
  const key = await deps.db.withTenant(auth.tenantId, async (tx) => {
    if (!(await findBot(tx, auth.tenantId, botId))) throw new NotFoundError('Bot');
    return insertPublishableKey(tx, auth.tenantId, {
      id: newId(),
      botId,
      name: input.name ?? null,
      prefix: generated.displayPrefix,
      hash: generated.hash,
      allowedOrigins: origins,
      perVisitorPerMinute: input.perVisitorPerMinute ?? null,
      perKeyPerMinute: input.perKeyPerMinute ?? null,
      monthlyTokenBudget: input.monthlyTokenBudget ?? null,
    });
  });
  return { key, secret: generated.key, warnings };
}

export async function listBotPublishableKeys(
  auth: AuthContext,
  botId: string,
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<PublishableKey>> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, async (tx) => {
    if (!(await findBot(tx, auth.tenantId, botId))) throw new NotFoundError('Bot');
    return listPublishableKeys(tx, auth.tenantId, botId, page);
  });
}

/** Revocation takes effect on the next request: every public request looks the key up. */
export async function revokeTenantPublishableKey(
  auth: AuthContext,
  id: string,
  deps: { db: Database },
): Promise<void> {
  requireScope(auth, 'bots:write');
  await deps.db.withTenant(auth.tenantId, async (tx) => {
    if (!(await findPublishableKey(tx, auth.tenantId, id))) throw new NotFoundError('Publishable key');
    await revokePublishableKey(tx, auth.tenantId, id);
  });
}
