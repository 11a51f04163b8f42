import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiClient } from './api-client.ts';
import { UsageError } from './api-error.ts';
import type { CreatedTenantJson } from './types.ts';

type Env = NodeJS.ProcessEnv;

/** A server on this machine: the one place where the CLI may read the local key file. */
export function isLocalServer(apiUrl: string): boolean {
  const host = new URL(apiUrl).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}

/**
 * The platform admin token: ADMIN_TOKEN / MINIRAG_ADMIN_TOKEN, or, for a local server, the key file
 * `npm start` generated (`<MINIRAG_DATA_DIR or .minirag>/secrets.json`, field adminToken).
 */
export async function platformAdminToken(apiUrl: string, env: Env = process.env): Promise<string> {
  const fromEnv = env.MINIRAG_ADMIN_TOKEN ?? env.ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const where = 'MINIRAG_ADMIN_TOKEN (or ADMIN_TOKEN) to the platform admin token';
  if (!isLocalServer(apiUrl)) throw new UsageError(`Set ${where} of ${apiUrl}.`);
  const file = resolve(join(env.MINIRAG_DATA_DIR || '.minirag', 'secrets.json'));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `No admin token: ${file} does not exist. Start the local server here first (npm start), set MINIRAG_DATA_DIR to its data directory, or set ${where}.`,
    );
  }
  const token = (JSON.parse(text) as { adminToken?: unknown }).adminToken;
  if (typeof token !== 'string') throw new UsageError(`${file} has no adminToken field.`);
  return token;
}

export interface NewTenant {
  readonly name: string;
  readonly slug?: string | undefined;
  readonly email: string;
  readonly password?: string | undefined;
}

/** Creates a tenant (with its owner and first API token) as the platform admin. */
export async function createTenantAsAdmin(
  apiUrl: string,
  tenant: NewTenant,
  env: Env = process.env,
): Promise<CreatedTenantJson> {
  const admin = new ApiClient({ apiUrl, token: await platformAdminToken(apiUrl, env) });
  return admin.post<CreatedTenantJson>('/v1/tenants', {
    json: {
      name: tenant.name,
      ...(tenant.slug ? { slug: tenant.slug } : {}),
      owner_email: tenant.email,
      ...(tenant.password ? { owner_password: tenant.password } : {}),
    },
  });
}
