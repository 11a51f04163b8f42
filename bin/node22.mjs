#!/usr/bin/env node
// Runs a command (`node bin/node22.mjs <command> [args…]`) on Node.js 22 or newer, the Lambda runtime's
// version. On an older system Node it takes the binary from the `node` npm package (fetched once through
// `npx`, then remembered in node_modules/.cache) and puts it first on PATH, so the command and everything
// it starts (npm, npx, tsx, vitest's workers, cdk's app) run on 22. Plain JavaScript that Node 18+ runs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 22;
// Pinned so every run and every machine gets the same binary; bump it deliberately with the Lambda runtime.
const NODE_PACKAGE = 'node@22.23.3';
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const remembered = join(root, 'node_modules', '.cache', 'minirag-node22.json');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node bin/node22.mjs <command> [args…]');
  process.exit(2);
}

const major = (version) => Number(version.replace(/^v/, '').split('.')[0]);

function node22Binary() {
  try {
    const { packageSpec, execPath } = JSON.parse(readFileSync(remembered, 'utf8'));
    if (packageSpec === NODE_PACKAGE && existsSync(execPath)) return execPath;
  } catch {
    // nothing remembered yet
  }
  const execPath = execFileSync(
    'npx',
    ['--yes', '--package', NODE_PACKAGE, '--', 'node', '-p', 'process.execPath'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ).trim();
  try {
    mkdirSync(dirname(remembered), { recursive: true });
    writeFileSync(remembered, JSON.stringify({ packageSpec: NODE_PACKAGE, execPath }));
  } catch {
    // no node_modules yet (e.g. before `npm ci`): ask npx again next time
  }
  return execPath;
}

let env = process.env;
if (major(process.version) < MIN_MAJOR) {
  const binary = node22Binary();
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  env = { ...process.env, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}` };
  console.error(
    `Node ${process.version} is older than ${MIN_MAJOR}: this run uses Node ${version} from the npm package ${NODE_PACKAGE}`,
  );
}

const child = spawn(command, args, { stdio: 'inherit', env });
// Signals go to the child (a terminal's Ctrl-C reaches both; the child decides how to stop); its exit is ours.
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of signals) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`could not start ${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) {
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
