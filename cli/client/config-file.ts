import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What the CLI remembers for one server: the tenant token `tenant create` / `demo` / first use saved. */
export interface SavedCredential {
  readonly token: string;
  readonly tenant?: string | undefined;
}

interface ConfigFile {
  readonly version: 1;
  readonly servers: Record<string, SavedCredential>;
}

/**
 * `~/.config/minirag/config.json` (or `$XDG_CONFIG_HOME/minirag/config.json`): tokens per API URL.
 * It holds secrets, so it is written 0600 in a 0700 directory, and replaced atomically.
 */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINIRAG_CONFIG) return env.MINIRAG_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'minirag', 'config.json');
}

/** One key per server, whatever way its URL was spelt (trailing slash, upper-case host). */
export function serverKey(apiUrl: string): string {
  const url = new URL(apiUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return {
      version: 1,
      servers: parsed.servers && typeof parsed.servers === 'object' ? parsed.servers : {},
    };
  } catch {
    throw new Error(`The CLI config file ${path} is not valid JSON; fix or delete it.`);
  }
}

export async function loadSavedCredential(
  apiUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SavedCredential | undefined> {
  const config = await readConfig(configFilePath(env));
  const saved = config.servers[serverKey(apiUrl)];
  return saved && typeof saved.token === 'string' ? saved : undefined;
}

export async function saveCredential(
  apiUrl: string,
  credential: SavedCredential,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = configFilePath(env);
  const config = await readConfig(path);
  const next: ConfigFile = { version: 1, servers: { ...config.servers, [serverKey(apiUrl)]: credential } };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}
