import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiClient } from './api-client.ts';
import { ApiError, UsageError } from './api-error.ts';
import { loadSavedCredential, type SavedCredential, saveCredential } from './config-file.ts';
import { readLocalServerUrl } from './local-server-file.ts';
import type { CreatedTenantJson } from './types.ts';

export const DEFAULT_API_URL = 'http://localhost:8787';

/** The global flags every command accepts (commander's `optsWithGlobals()`). */
export interface GlobalOptions {
  readonly apiUrl?: string;
  readonly chatUrl?: string;
  readonly token?: string;
}

export interface Connection {
  readonly apiUrl: string;
  readonly chatUrl: string;
  /** From --token, MINIRAG_TOKEN, or the config file (in that order). */
  readonly token: string | undefined;
  readonly tokenFrom: 'flag' | 'env' | 'config' | undefined;
}

type Env = NodeJS.ProcessEnv;

export async function resolveConnection(options: GlobalOptions, env: Env = process.env): Promise<Connection> {
  const apiUrl =
    options.apiUrl ??
    env.MINIRAG_API_URL ??
    (await readLocalServerUrl(env.MINIRAG_DATA_DIR || '.minirag')) ??
    DEFAULT_API_URL;
  try {
    new URL(apiUrl);
  } catch {
    throw new UsageError(`The API URL '${apiUrl}' is not a URL (use e.g. http://localhost:8787).`);
  }
  const chatUrl = options.chatUrl ?? env.MINIRAG_CHAT_URL ?? apiUrl;
  if (options.token) return { apiUrl, chatUrl, token: options.token, tokenFrom: 'flag' };
  if (env.MINIRAG_TOKEN) return { apiUrl, chatUrl, token: env.MINIRAG_TOKEN, tokenFrom: 'env' };
  const saved = await loadSavedCredential(apiUrl, env);
  return { apiUrl, chatUrl, token: saved?.token, tokenFrom: saved ? 'config' : undefined };
}

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
  connection: Connection,
  tenant: NewTenant,
  env: Env = process.env,
): Promise<CreatedTenantJson> {
  const admin = new ApiClient({
    apiUrl: connection.apiUrl,
    token: await platformAdminToken(connection.apiUrl, env),
  });
  return admin.post<CreatedTenantJson>('/v1/tenants', {
    json: {
      name: tenant.name,
      ...(tenant.slug ? { slug: tenant.slug } : {}),
      owner_email: tenant.email,
      ...(tenant.password ? { owner_password: tenant.password } : {}),
    },
  });
}

/** Creates a tenant and remembers its owner token as the default for this server. */
export async function createAndSaveTenant(
  connection: Connection,
  tenant: NewTenant,
  env: Env = process.env,
): Promise<{ created: CreatedTenantJson; savedIn: string }> {
  const created = await createTenantAsAdmin(connection, tenant, env);
  const saved: SavedCredential = { token: created.api_token.token, tenant: created.tenant.slug };
  const savedIn = await saveCredential(connection.apiUrl, saved, env);
  return { created, savedIn };
}

/**
 * A client with a tenant credential. With none configured and a local server, the zero-config path:
 * create a "local" tenant with the admin token from the local key file and save its token. A saved
 * token the local server no longer knows (its data dir was wiped) is replaced the same way.
 */
export async function tenantClient(
  options: GlobalOptions,
  notice: (line: string) => void,
  env: Env = process.env,
): Promise<ApiClient> {
  const connection = await resolveConnection(options, env);
  const client = new ApiClient(connection);
  if (connection.token) {
    if (connection.tokenFrom !== 'config' || !isLocalServer(connection.apiUrl)) return client;
    try {
      await client.get('/v1/tenants/me');
      return client;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      notice('The saved token is not known to this server (a new data directory?); making a new one.');
    }
  } else if (!isLocalServer(connection.apiUrl)) {
    throw new UsageError(
      `No tenant token for ${connection.apiUrl}: pass --token, set MINIRAG_TOKEN, or run \`minirag tenant create <name>\` (it saves one).`,
    );
  }
  await client.get('/healthz'); // unreachable: say so, rather than that the admin token is missing
  const { created, savedIn } = await createLocalTenant(connection, env);
  notice(
    `Created tenant '${created.tenant.slug}' on ${connection.apiUrl}; its token is saved in ${savedIn}.`,
  );
  return client.withToken(created.api_token.token);
}

async function createLocalTenant(connection: Connection, env: Env) {
  const suffix = () => Math.random().toString(36).slice(2, 6);
  for (const slug of ['local', `local-${suffix()}`, `local-${suffix()}`]) {
    try {
      return await createAndSaveTenant(
        connection,
        { name: 'Local', slug, email: 'owner@local.minirag.dev' },
        env,
      );
    } catch (error) {
      // The slug is taken (its token was lost with an old config file): take another one.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
  throw new UsageError('Could not create a local tenant: every slug tried is taken.');
}
