import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type Bench, type Figure, figure } from './lib/report.ts';
import { median } from './lib/stats.ts';

const run = promisify(execFile);

const HELLO = `import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
const app = new Hono();
app.get('/', (c) => c.text('hello'));
export const handler = handle(app);
`;

/** Prints how long importing the module named by argv[1] takes, in ms, measured inside the child. */
const IMPORT_TIMER =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

/** The infra's bundling options (infra/constructs/app-function.ts), without the source map. */
async function bundle(repoRoot: string, entry: { file: string } | { contents: string }, outfile: string) {
  await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: repoRoot, loader: 'ts' } }),
    outfile,
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  const bytes = (await stat(outfile)).size;
  const gzipped = gzipSync(await readFile(outfile)).length;
  return { bytes, gzipped };
}

/** Fresh `node` per sample: the import is a cold start's module load, nothing cached. */
async function importTimes(file: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT_TIMER, file], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    times.push(Number(stdout));
  }
  return times;
}

export const lambdaBench: Bench = {
  name: 'lambda',
  async run(ctx) {
    const runs = ctx.quick ? 3 : 7;
    const functionsDir = join(ctx.repoRoot, 'functions');
    const names = (await readdir(functionsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const out = await mkdtemp(join(tmpdir(), 'minirag-lambda-'));
    // @aws-sdk/* stays external, as in the deployed bundle; the Lambda runtime provides it, here node_modules.
    await symlink(join(ctx.repoRoot, 'node_modules'), join(out, 'node_modules'), 'dir');
    try {
      const hello = await bundle(ctx.repoRoot, { contents: HELLO }, join(out, 'hello', 'handler.mjs'));
      const helloImport = median(await importTimes(join(out, 'hello', 'handler.mjs'), runs));
      const figures: Figure[] = [];
      const details: Record<string, unknown> = { hello: { ...hello, importMs: helloImport } };
      const measuredModules: string[] = [];
      for (const name of names) {
        const handler = await bundle(
          ctx.repoRoot,
          { file: join(functionsDir, name, 'handler.ts') },
          join(out, name, 'handler.mjs'),
        );
        // Handlers build their platform at import (top-level await → AWS calls), so the import timed is
        // the bundled app factory; a function without one (migrate) connects only when invoked.
        const hasApp = await stat(join(functionsDir, name, 'app.ts')).then(
          () => true,
          () => false,
        );
        const timedFile = hasApp ? join(out, name, 'app.mjs') : join(out, name, 'handler.mjs');
        if (hasApp) await bundle(ctx.repoRoot, { file: join(functionsDir, name, 'app.ts') }, timedFile);
        measuredModules.push(`${name}: ${hasApp ? 'app.ts' : 'handler.ts'}`);
        const importMs = median(await importTimes(timedFile, runs));
        details[name] = { handler, importMs, importedModule: hasApp ? 'app.ts' : 'handler.ts' };
        figures.push(
          figure(`${name} handler bundle size`, handler.bytes / 1024, 'KiB', {
            label: 'hello-world Hono bundle',
            value: hello.bytes / 1024,
          }),
          figure(`${name} ${hasApp ? 'app factory' : 'handler'} import time`, importMs, 'ms', {
            label: 'hello-world Hono bundle import',
            value: helloImport,
          }),
        );
        ctx.log(`${name}: ${(handler.bytes / 1024).toFixed(0)} KiB, import ${importMs.toFixed(1)} ms`);
      }
      return {
        figures,
        notes: [
          'Each functions/<fn>/handler.ts bundled with esbuild as the CDK app does (ESM, node22, minify, bundle, platform node, external @aws-sdk/*, createRequire banner; no source map) into a temp dir; size = the .mjs file (gzip sizes in latest.json).',
          `Import time = \`await import(bundle)\` timed inside a fresh node process (median of ${runs}), i.e. module load + top-level evaluation on a cold process, not a Lambda INIT (no runtime bootstrap, no network). Modules timed: ${measuredModules.join(', ')} — a handler's top-level \`await <fn>Platform()\` would call Secrets Manager/KMS, so the app factory bundle is timed instead; migrate's handler has no such await.`,
          'Baseline: a hello-world Hono app with hono/aws-lambda `handle`, bundled and imported the same way.',
        ],
        details,
      };
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
};
