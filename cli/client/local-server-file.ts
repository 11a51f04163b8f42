import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `server.json` in the data directory: where the local server listens, written when it starts, so
 * the CLI run beside it finds it on any port, not only on the default one.
 */
const FILE = 'server.json';

export const localServerFile = (dataDir: string) => join(dataDir, FILE);

export async function writeLocalServerFile(dataDir: string, url: string): Promise<void> {
  await writeFile(localServerFile(dataDir), `${JSON.stringify({ url, pid: process.pid })}\n`, {
    mode: 0o600,
  });
}

export async function removeLocalServerFile(dataDir: string): Promise<void> {
  await rm(localServerFile(dataDir), { force: true });
}

/** The URL of the local server of this data directory, if one is running (a stale file is ignored). */
export async function readLocalServerUrl(dataDir: string): Promise<string | undefined> {
  let parsed: { url?: unknown; pid?: unknown };
  try {
    parsed = JSON.parse(await readFile(localServerFile(dataDir), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return undefined;
  return isRunning(parsed.pid) ? parsed.url : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
