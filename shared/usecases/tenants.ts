import { generateApiToken } from '../auth/api-token.ts';
import { forgetResolvedCredentials } from '../auth/credential-cache.ts';
import { hashPassword } from '../auth/password.ts';
import { SCOPES } from '../domain/auth-context.ts';
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import { asTenantId, newId } from '../domain/ids.ts';
import type { Tenant } from '../domain/tenant.ts';
import type { User } from '../domain/user.ts';
import type { Database } from '../ports/database.ts';
import { insertApiToken } from '../repositories/api-tokens.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import { enterTenant } from '../repositories/tenant-scope.ts';
import {
  findTenantById,
  findTenantBySlug,
  insertTenant,
  listTenants,
  type TenantChanges,
  updateTenant,
} from '../repositories/tenants.ts';
import { insertUser } from '../repositories/users.ts';

export interface CreateTenantInput {
  readonly name: string;
  readonly slug: string;
  readonly ownerEmail: string;
  readonly ownerPassword?: string | undefined;
  readonly monthlyTokenBudget?: number | null | undefined;
  readonly requestsPerMinute?: number | null | undefined;
}

export interface CreatedTenant {
  readonly tenant: Tenant;
  readonly owner: User;
  /** The owner's first API token: shown once, never stored in clear. */
  readonly apiToken: { id: string; secret: string };
}

/** Platform admin: a tenant, its owner and a first API token, all or nothing. */
export async function createTenant(db: Database, input: CreateTenantInput): Promise<CreatedTenant> {
  const passwordHash = input.ownerPassword ? await hashPassword(input.ownerPassword) : null;
  const tenantId = asTenantId(newId());
  const token = generateApiToken();
  // One platform transaction: the tenant row, then (scoped to it, so RLS still applies) its owner and token.
  return db.withSystem(async (tx) => {
    if (await findTenantBySlug(tx, input.slug)) {
      throw new ConflictError(`A tenant with the slug '${input.slug}' already exists.`);
    }
    const tenant = await insertTenant(tx, {
      id: tenantId,
      slug: input.slug,
      name: input.name,
      monthlyTokenBudget: input.monthlyTokenBudget ?? null,
      requestsPerMinute: input.requestsPerMinute ?? null,
    });
    await enterTenant(tx, tenantId);
    const owner = await insertUser(tx, tenantId, {
      id: newId(),
      email: input.ownerEmail.toLowerCase(),
      name: null,
      role: 'owner',
      passwordHash,
    });
    const apiToken = await insertApiToken(tx, tenantId, {
      id: newId(),
      userId: owner.id,
      name: 'owner (created with the tenant)',
      prefix: token.displayPrefix,
      hash: token.hash,
      scopes: SCOPES,
      role: 'owner',
      isServiceAccount: false,
      expiresAt: null,
    });
    return { tenant, owner, apiToken: { id: apiToken.id, secret: token.secret } };
  });
}

export const listAllTenants = (db: Database, page: PageRequest): Promise<Page<Tenant>> =>
  db.withSystem((tx) => listTenants(tx, page));

export async function getTenant(db: Database, id: string): Promise<Tenant> {
  const tenant = await db.withSystem((tx) => findTenantById(tx, id));
  if (!tenant) throw new NotFoundError('Tenant');
  return tenant;
}

export async function changeTenant(db: Database, id: string, changes: TenantChanges): Promise<Tenant> {
  const tenant = await db.withSystem((tx) => updateTenant(tx, id, changes));
  if (!tenant) throw new NotFoundError('Tenant');
  forgetResolvedCredentials();
  return tenant;
}
