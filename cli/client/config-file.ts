import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './api-error.ts';

/** One saved connection: a server and a tenant credential on it (like an AWS CLI profile). */
export interface Profile {
  readonly api_url: string;
  /** Only when streamed answers are asked elsewhere (a deployed chat-stream function URL). */
  readonly chat_url?: string | undefined;
  readonly token: string;
  /** The tenant's slug and id, as far as the CLI learnt them. */
  readonly tenant?: string | undefined;
  readonly tenant_id?: string | undefined;
}

export interface CliConfig {
  readonly version: 2;
  /** The profile used when neither --profile nor MINIRAG_PROFILE names one. */
  readonly current?: string | undefined;
  readonly profiles: Readonly<Record<string, Profile>>;
}

type Env = NodeJS.ProcessEnv;

export const EMPTY_CONFIG: CliConfig = { version: 2, profiles: {} };

/**
 * `~/.config/minirag/config.json` (or `$XDG_CONFIG_HOME/minirag/config.json`, or MINIRAG_CONFIG).
 * It holds secrets, so it is written 0600 in a 0700 directory, and replaced atomically.
 */
export function configFilePath(env: Env = process.env): string {
  if (env.MINIRAG_CONFIG) return env.MINIRAG_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'minirag', 'config.json');
}

/** One key per server, whatever way its URL was spelt (trailing slash, upper-case host). */
export function serverKey(apiUrl: string): string {
  const url = new URL(apiUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export const sameServer = (a: string, b: string) => serverKey(a) === serverKey(b);

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name))
    throw new UsageError(
      `'${name}' is not a valid profile name: use letters, digits, '.', '_' or '-' (up to 63 characters).`,
    );
  return name;
}

/** The profiles file, or an empty one. A file in the earlier one-token-per-server format is read as profiles. */
export async function readConfig(env: Env = process.env): Promise<CliConfig> {
  const path = configFilePath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_CONFIG;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`The CLI config file ${path} is not valid JSON; fix or delete it.`);
  }
  return parseConfig(parsed);
}

export function parseConfig(parsed: unknown): CliConfig {
  if (!parsed || typeof parsed !== 'object') return EMPTY_CONFIG;
  const file = parsed as Record<string, unknown>;
  if (file.profiles && typeof file.profiles === 'object') {
    const profiles: Record<string, Profile> = {};
    for (const [name, value] of Object.entries(file.profiles as Record<string, unknown>)) {
      const profile = asProfile(value);
      if (profile) profiles[name] = profile;
    }
    const current = typeof file.current === 'string' && profiles[file.current] ? file.current : undefined;
    return { version: 2, current, profiles };
  }
  return migrate(file);
}

/**
 * Earlier files kept one token per server (`servers: { url: { token, tenant } }`), or a single connection
 * at the top level. Each becomes a profile: the first one "default" (and current), the others named after
 * their tenant, so nothing saved is lost.
 */
function migrate(file: Record<string, unknown>): CliConfig {
  const entries: Profile[] = [];
  if (file.servers && typeof file.servers === 'object') {
    for (const [url, value] of Object.entries(file.servers as Record<string, unknown>)) {
      const saved = value as { token?: unknown; tenant?: unknown } | null;
      const profile = asProfile({ ...saved, api_url: url });
      if (profile) entries.push(profile);
    }
  } else {
    const apiUrl = file.api_url ?? file.apiUrl;
    const profile = asProfile({ ...file, api_url: apiUrl });
    if (profile) entries.push(profile);
  }
  let config: CliConfig = EMPTY_CONFIG;
  for (const [i, profile] of entries.entries()) {
    const name = i === 0 ? 'default' : freeProfileName(config, profile.tenant ?? 'server', profile.api_url);
    config = withProfile(config, name, profile);
  }
  return entries.length > 0 ? { ...config, current: 'default' } : config;
}

function asProfile(value: unknown): Profile | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.token !== 'string' || typeof v.api_url !== 'string') return undefined;
  try {
    new URL(v.api_url);
  } catch {
    return undefined;
  }
  const text = (x: unknown) => (typeof x === 'string' && x ? x : undefined);
  return {
    api_url: v.api_url,
    ...(text(v.chat_url) ? { chat_url: text(v.chat_url) } : {}),
    token: v.token,
    ...(text(v.tenant) ? { tenant: text(v.tenant) } : {}),
    ...(text(v.tenant_id) ? { tenant_id: text(v.tenant_id) } : {}),
  };
}

export const withProfile = (config: CliConfig, name: string, profile: Profile): CliConfig => ({
  ...config,
  profiles: { ...config.profiles, [name]: profile },
});

/**
 * `wanted` when it is free or already names a profile for the same server (which it then replaces),
 * else `wanted-2`, `wanted-3`…: saving never overwrites another server's credentials.
 */
export function freeProfileName(config: CliConfig, wanted: string, apiUrl: string): string {
  const base = PROFILE_NAME.test(wanted) ? wanted : 'profile';
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    const existing = config.profiles[name];
    if (!existing || sameServer(existing.api_url, apiUrl)) return name;
  }
}

export async function writeConfig(config: CliConfig, env: Env = process.env): Promise<string> {
  const path = configFilePath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

export interface SavedProfile {
  readonly name: string;
  readonly path: string;
  /** The current profile after saving. */
  readonly current: string;
  /** True when this profile became the current one (there was none before). */
  readonly madeCurrent: boolean;
}

/** Saves (adds or replaces) one profile; it becomes current only when no profile was current. */
export async function saveProfile(
  name: string,
  profile: Profile,
  env: Env = process.env,
): Promise<SavedProfile> {
  const config = await readConfig(env);
  const madeCurrent = config.current === undefined;
  const current = config.current ?? name;
  const path = await writeConfig({ ...withProfile(config, checkProfileName(name), profile), current }, env);
  return { name, path, current, madeCurrent };
}

/** A token for display: enough to tell two apart, never enough to use. */
export function maskToken(token: string): string {
  if (token.length < 16) return '****';
  return `${token.startsWith('mrag_') ? 'mrag_' : ''}…${token.slice(-4)}`;
}

/** "Known profiles: a, b." or how to make the first one. */
export function knownProfiles(config: CliConfig): string {
  const names = Object.keys(config.profiles);
  return names.length > 0
    ? `Known profiles: ${names.join(', ')}.`
    : 'No profiles are saved yet: `minirag demo`, `minirag tenant create` or any command against a local server saves one.';
}
