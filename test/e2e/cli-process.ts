import { spawn } from 'node:child_process';
import { BIN } from './server-process.ts';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** A private HOME, so the run reads and writes its own ~/.config/minirag/config.json. */
  readonly home: string;
  readonly cwd: string;
  readonly env?: Record<string, string>;
  readonly input?: string;
}

/** A line of a stack trace: the CLI must never print one. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/**
 * Runs the real `minirag` binary (node bin/minirag.js) with no credentials or database settings inherited
 * from the test's environment (CI sets DATABASE_URL, a developer may have MINIRAG_TOKEN).
 */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(MINIRAG_|ADMIN_TOKEN$|XDG_CONFIG_HOME$|DATABASE_URL$|MASTER_KEY$|PORT$)/.test(name))
      delete env[name];
  }
  return new Promise<CliResult>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...env, HOME: options.home, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
