import { ApiClient } from './api-client.ts';
import { ApiError, UsageError } from './api-error.ts';
import {
  type CliConfig,
  freeProfileName,
  knownProfiles,
  type Profile,
  readConfig,
  type SavedProfile,
  sameServer,
  saveProfile,
} from './config-file.ts';
import { readLocalServerUrl } from './local-server-file.ts';
import { createTenantAsAdmin, isLocalServer, type NewTenant } from './platform-admin.ts';
import type { CreatedTenantJson, MeJson } from './types.ts';

export { isLocalServer, platformAdminToken } from './platform-admin.ts';

export const DEFAULT_API_URL = 'http://localhost:8787';

/** The global flags every command accepts (commander's `optsWithGlobals()`). */
export interface GlobalOptions {
  readonly apiUrl?: string;
  readonly chatUrl?: string;
  readonly token?: string;
  readonly profile?: string;
}

/**
 * How the profile was chosen: --profile, MINIRAG_PROFILE, the config file's current one, or (when
 * --api-url / MINIRAG_API_URL point elsewhere than the current profile) the saved profile for that server.
 */
export type ProfileSource = 'flag' | 'env' | 'current' | 'server';

export interface Connection {
  readonly apiUrl: string;
  readonly chatUrl: string;
  /** From --token, MINIRAG_TOKEN, or the profile (in that order). */
  readonly token: string | undefined;
  readonly tokenFrom: 'flag' | 'env' | 'profile' | undefined;
  /** The profile this connection uses (its token when tokenFrom is 'profile'). */
  readonly profile?: { readonly name: string; readonly from: ProfileSource; readonly saved?: Profile };
  readonly config: CliConfig;
}

type Env = NodeJS.ProcessEnv;

/** --profile, else MINIRAG_PROFILE, else the current one; a name given but not saved is an error. */
export function selectProfile(
  options: GlobalOptions,
  env: Env,
  config: CliConfig,
): { name: string; from: ProfileSource } | undefined {
  const asked = options.profile
    ? { name: options.profile, from: 'flag' as const }
    : env.MINIRAG_PROFILE
      ? { name: env.MINIRAG_PROFILE, from: 'env' as const }
      : undefined;
  if (asked) {
    if (!config.profiles[asked.name]) {
      const via = asked.from === 'flag' ? '--profile' : 'MINIRAG_PROFILE';
      throw new UsageError(`Unknown profile '${asked.name}' (from ${via}). ${knownProfiles(config)}`);
    }
    return asked;
  }
  return config.current ? { name: config.current, from: 'current' } : undefined;
}

/**
 * Where and as whom the command talks. The API URL: --api-url, MINIRAG_API_URL, the profile's, the local
 * server running on this data dir, http://localhost:8787. The token: --token, MINIRAG_TOKEN, the profile's —
 * a profile's token is only ever sent to the profile's own server.
 */
export async function resolveConnection(
  options: GlobalOptions,
  env: Env = process.env,
  resolve: { readonly ignoreCurrent?: boolean } = {},
): Promise<Connection> {
  const config = await readConfig(env);
  const chosen = selectProfile(options, env, config);
  const selected = resolve.ignoreCurrent && chosen?.from === 'current' ? undefined : chosen;
  const named = selected ? config.profiles[selected.name] : undefined;
  const urlOverride = options.apiUrl ?? env.MINIRAG_API_URL;
  const apiUrl =
    urlOverride ??
    named?.api_url ??
    (await readLocalServerUrl(env.MINIRAG_DATA_DIR || '.minirag')) ??
    DEFAULT_API_URL;
  try {
    new URL(apiUrl);
  } catch {
    throw new UsageError(`The API URL '${apiUrl}' is not a URL (use e.g. http://localhost:8787).`);
  }
  const tokenOverride = options.token ?? env.MINIRAG_TOKEN;
  let profile: Connection['profile'];
  if (selected && named && sameServer(named.api_url, apiUrl)) profile = { ...selected, saved: named };
  else if (selected && selected.from !== 'current' && !tokenOverride) {
    const via = options.apiUrl ? '--api-url' : 'MINIRAG_API_URL';
    throw new UsageError(
      `Profile '${selected.name}' is for ${named?.api_url}, but ${via} points at ${apiUrl}: drop one of them.`,
    );
  } else {
    const match = Object.entries(config.profiles).find(([, p]) => sameServer(p.api_url, apiUrl));
    if (match) profile = { name: match[0], from: 'server', saved: match[1] };
  }
  const chatUrl = options.chatUrl ?? env.MINIRAG_CHAT_URL ?? profile?.saved?.chat_url ?? apiUrl;
  const base = { apiUrl, chatUrl, config, ...(profile ? { profile } : {}) };
  if (options.token) return { ...base, token: options.token, tokenFrom: 'flag' };
  if (env.MINIRAG_TOKEN) return { ...base, token: env.MINIRAG_TOKEN, tokenFrom: 'env' };
  return { ...base, token: profile?.saved?.token, tokenFrom: profile?.saved ? 'profile' : undefined };
}

/** Creates a tenant and saves its owner token as the profile `profileName` (current only if none was). */
export async function createAndSaveTenant(
  connection: Connection,
  tenant: NewTenant,
  profileName: string,
  env: Env = process.env,
): Promise<{ created: CreatedTenantJson; saved: SavedProfile }> {
  const created = await createTenantAsAdmin(connection.apiUrl, tenant, env);
  const saved = await saveProfile(
    profileName,
    {
      api_url: connection.apiUrl,
      ...(connection.chatUrl !== connection.apiUrl ? { chat_url: connection.chatUrl } : {}),
      token: created.api_token.token,
      tenant: created.tenant.slug,
      tenant_id: created.tenant.id,
    },
    env,
  );
  return { created, saved };
}

/** "Saved as profile 'x' in <file>." and, when it is not the current one, how to use it. */
export function savedProfileLines(saved: SavedProfile): string[] {
  return [
    `Saved as profile '${saved.name}' in ${saved.path}${saved.madeCurrent ? ' (now the current profile)' : ''}.`,
    ...(saved.current === saved.name
      ? []
      : [
          `The current profile is still '${saved.current}'. Use this one with --profile ${saved.name}, or make it current: minirag profile use ${saved.name}`,
        ]),
  ];
}

export interface ClientOptions {
  /** The command changes the tenant's data: say which tenant (and profile) it acts on, on stderr. */
  readonly writes?: boolean;
}

/**
 * A client with a tenant credential. With none configured and a local server, the zero-config path:
 * create a "local" tenant with the admin token from the local key file and save it as a profile. A saved
 * token the local server no longer knows (its data dir was wiped) is replaced the same way.
 */
export async function tenantClient(
  options: GlobalOptions,
  notice: (line: string) => void,
  clientOptions: ClientOptions = {},
  env: Env = process.env,
): Promise<ApiClient> {
  const connection = await resolveConnection(options, env);
  let client = new ApiClient(connection);
  let tenant = connection.tokenFrom === 'profile' ? connection.profile?.saved?.tenant : undefined;
  let profileName = connection.tokenFrom === 'profile' ? connection.profile?.name : undefined;
  if (!(await usable(connection, client, notice))) {
    if (!isLocalServer(connection.apiUrl)) {
      throw new UsageError(
        `No tenant token for ${connection.apiUrl}: pass --token, set MINIRAG_TOKEN, choose a saved profile (--profile; see \`minirag profile list\`), or run \`minirag tenant create <name>\` (it saves one).`,
      );
    }
    await client.get('/healthz'); // unreachable: say so, rather than that the admin token is missing
    const { created, saved } = await createLocalTenant(connection, env);
    notice(`Created tenant '${created.tenant.slug}' on ${connection.apiUrl}.`);
    for (const line of savedProfileLines(saved)) notice(line);
    client = client.withToken(created.api_token.token);
    tenant = created.tenant.slug;
    profileName = saved.name;
  }
  if (clientOptions.writes) {
    tenant ??= await client.get<MeJson>('/v1/tenants/me').then(
      (me) => me.tenant.slug,
      () => undefined,
    );
    const who = profileName
      ? `profile '${profileName}'`
      : `token from ${connection.tokenFrom === 'flag' ? '--token' : 'MINIRAG_TOKEN'}`;
    notice(`→ tenant '${tenant ?? 'unknown'}' (${who}) at ${connection.apiUrl}`);
  }
  return client;
}

/** Whether the connection has a token worth using; a local server's saved token is checked first. */
async function usable(
  connection: Connection,
  client: ApiClient,
  notice: (line: string) => void,
): Promise<boolean> {
  if (!connection.token) return false;
  if (connection.tokenFrom !== 'profile' || !isLocalServer(connection.apiUrl)) return true;
  try {
    await client.get('/v1/tenants/me');
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    notice(
      `The token of profile '${connection.profile?.name}' is not known to this server (a new data directory?); making a new one.`,
    );
    return false;
  }
}

async function createLocalTenant(connection: Connection, env: Env) {
  const { config } = connection;
  // A stale token is replaced in its own profile; the very first profile is "default".
  const profileName =
    connection.tokenFrom === 'profile' && connection.profile
      ? connection.profile.name
      : Object.keys(config.profiles).length === 0
        ? 'default'
        : freeProfileName(config, 'local', connection.apiUrl);
  const suffix = () => Math.random().toString(36).slice(2, 6);
  for (const slug of ['local', `local-${suffix()}`, `local-${suffix()}`]) {
    try {
      return await createAndSaveTenant(
        connection,
        { name: 'Local', slug, email: 'owner@local.minirag.dev' },
        profileName,
        env,
      );
    } catch (error) {
      // The slug is taken (its token was lost with an old config file): take another one.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
  throw new UsageError('Could not create a local tenant: every slug tried is taken.');
}
