#!/usr/bin/env node
// `npm test`: typecheck + lint + architecture boundaries + every test suite.
// Ends with the plain line `N passed, N failed` that CI reads.
import { spawn } from 'node:child_process';

const steps = [
  ['typecheck', 'npx', ['tsc', '--noEmit']],
  ['lint', 'npx', ['biome', 'ci', '.']],
  [
    'boundaries',
    'npx',
    ['depcruise', '--config', '.dependency-cruiser.cjs', 'shared', 'functions', 'cli', 'infra'],
  ],
];

function run(cmd, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    if (capture) {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        process.stdout.write(chunk);
      });
    }
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

let staticFailures = 0;
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n▶ ${name}\n`);
  const { code } = await run(cmd, args);
  if (code !== 0) {
    staticFailures++;
    process.stdout.write(`✖ ${name} failed\n`);
  }
}

process.stdout.write('\n▶ tests\n');
const tests = await run('npx', ['vitest', 'run', ...process.argv.slice(2)], { capture: true });
const summary = [...tests.out.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].pop();
const passed = Number(summary?.[1] ?? 0);
const failed = Number(summary?.[2] ?? (tests.code === 0 ? 0 : 1)) + staticFailures;
const skipped = summary?.[3] ? `, ${summary[3]} skipped` : '';
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped}\n`);
process.exit(failed > 0 || tests.code !== 0 ? 1 : 0);
