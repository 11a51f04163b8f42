import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/minirag.js');

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), prefix));
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });
export const newAdminToken = () => `mrag_admin_test_${randomBytes(16).toString('hex')}`;

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Sends the signal and waits for the exit (SIGKILL after `graceMs`). */
  stop(
    signal?: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  readonly dataDir: string;
  /** Sets ADMIN_TOKEN; without it the server uses (and creates) the key file in the data dir. */
  readonly adminToken?: string;
  readonly port?: number;
  /** 'env' passes the port as PORT, as `PORT=… npm start` does; the default is `serve --port`. */
  readonly portFrom?: 'flag' | 'env';
  /** The server's working directory (a relative data dir is resolved against it); the repo root by default. */
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** Runs `node bin/minirag.js serve` as a child process and waits until /healthz answers. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['ADMIN_TOKEN', 'DATABASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'PORT'])
    delete env[name];
  const byEnv = options.portFrom === 'env';
  const args = byEnv ? [BIN, 'serve'] : [BIN, 'serve', '--port', String(port)];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: {
      ...env,
      ...(byEnv ? { PORT: String(port) } : {}),
      MINIRAG_DATA_DIR: options.dataDir,
      ...(options.adminToken ? { ADMIN_TOKEN: options.adminToken } : {}),
      LOG_LEVEL: 'WARN',
      NO_COLOR: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 45_000);
  for (;;) {
    if (hasExited) throw new Error(`the server exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz in time:\n${output}`);
    }
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    child,
    exited,
    output: () => output,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (hasExited) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
