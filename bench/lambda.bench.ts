import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  bundleFunction,
  bundleSizes,
  type FunctionName,
  functionBundle,
  HANDLER_FILE,
} from '#infra/constructs/function-bundle.ts';
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

/** A hello-world Hono app, built with the functions' own bundle options (infra/constructs/function-bundle.ts). */
async function bundleHello(repoRoot: string, outdir: string) {
  const entry = join(outdir, 'hello.ts');
  await mkdir(outdir, { recursive: true });
  await writeFile(entry, HELLO);
  return bundleFunction(repoRoot, { entry }, outdir);
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
      const helloDir = join(out, 'hello');
      const hello = bundleSizes(await bundleHello(ctx.repoRoot, helloDir), helloDir, ctx.repoRoot);
      const helloImport = median(await importTimes(join(helloDir, HANDLER_FILE), runs));
      const figures: Figure[] = [];
      const details: Record<string, unknown> = { hello: { ...hello, importMs: helloImport } };
      const measuredModules: string[] = [];
      const kib = (bytes: number) => bytes / 1024;
      for (const name of names) {
        const dir = join(out, name);
        const spec = functionBundle(ctx.repoRoot, name as FunctionName);
        const metafile = bundleFunction(ctx.repoRoot, spec, dir);
        const sizes = bundleSizes(metafile, dir, ctx.repoRoot);
        // Handlers build their platform at import (top-level await → AWS calls), so the import timed is
        // the app factory built the same way; a function without one (migrate) connects only when invoked.
        const hasApp = await stat(join(functionsDir, name, 'app.ts')).then(
          () => true,
          () => false,
        );
        const timedDir = hasApp ? join(out, `${name}-app`) : dir;
        if (hasApp) bundleFunction(ctx.repoRoot, { entry: join(functionsDir, name, 'app.ts') }, timedDir);
        measuredModules.push(`${name}: ${hasApp ? 'app.ts' : 'handler.ts'}`);
        const importMs = median(await importTimes(join(timedDir, HANDLER_FILE), runs));
        details[name] = { ...sizes, importMs, importedModule: hasApp ? 'app.ts' : 'handler.ts' };
        const helloSize = { label: 'hello-world Hono bundle', value: kib(hello.totalBytes) };
        figures.push(
          figure(`${name} entry chunk (index.mjs)`, kib(sizes.entryBytes), 'KiB', helloSize),
          figure(
            `${name} loaded at cold start (entry + static chunks)`,
            kib(sizes.coldStartBytes),
            'KiB',
            helloSize,
          ),
          figure(`${name} total asset (all .mjs)`, kib(sizes.totalBytes), 'KiB', helloSize),
          figure(`${name} ${hasApp ? 'app factory' : 'handler'} import time`, importMs, 'ms', {
            label: 'hello-world Hono bundle import',
            value: helloImport,
          }),
        );
        ctx.log(
          `${name}: entry ${kib(sizes.entryBytes).toFixed(0)} KiB, cold ${kib(sizes.coldStartBytes).toFixed(0)} KiB, total ${kib(sizes.totalBytes).toFixed(0)} KiB, import ${importMs.toFixed(1)} ms`,
        );
      }
      return {
        figures,
        notes: [
          'Each function built by infra/constructs/function-bundle.ts, the code `cdk synth` runs (ESM, node22, minify, code splitting, external @aws-sdk/*, createRequire banner) into a temp dir. Entry = index.mjs; cold start = index.mjs plus the chunks it imports statically (what Lambda reads before the handler runs); total = every .mjs of the asset (source maps excluded).',
          `Import time = \`await import(index.mjs)\` timed inside a fresh node process (median of ${runs}), i.e. module load + top-level evaluation on a cold process, not a Lambda INIT (no runtime bootstrap, no network). Modules timed: ${measuredModules.join(', ')} — a handler's top-level \`await <fn>Platform()\` would call Secrets Manager/KMS, so the app factory is timed instead (a plain list request loads nothing more: provider SDKs, the tokenizer, the Qdrant client and the extractors are behind dynamic imports); migrate's handler has no such await.`,
          'Baseline: a hello-world Hono app with hono/aws-lambda `handle`, built and imported the same way.',
        ],
        details,
      };
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
};
