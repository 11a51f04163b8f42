import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction, bundleSizes, functionBundle } from '#infra/constructs/function-bundle.ts';
import { PROJECT_ROOT } from '#test/deployed/cloud-assembly.ts';
import { LOADED_ON_DEMAND, packageOf } from './bundle-packages.ts';

/** What a cold start of the request-serving functions may load at most, before its first request. */
const COLD_START_BUDGET_BYTES = 1024 * 1024;

describe('what a cold start loads (the functions built as deployed)', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it.each(['api', 'chat-stream'] as const)(
    'when the %s function is built then its cold start stays within the budget and loads no on-demand package',
    async (name) => {
      const outdir = await mkdtemp(join(tmpdir(), `minirag-budget-${name}-`));
      dirs.push(outdir);
      const sizes = bundleSizes(
        bundleFunction(PROJECT_ROOT, functionBundle(PROJECT_ROOT, name), outdir),
        outdir,
        PROJECT_ROOT,
      );
      const loaded = new Set(sizes.coldStartInputs.map(packageOf).filter((p) => p !== undefined));
      expect(LOADED_ON_DEMAND.filter((p) => loaded.has(p))).toEqual([]);
      expect(sizes.coldStartBytes).toBeLessThanOrEqual(COLD_START_BUDGET_BYTES);
      // The on-demand code is still in the asset, as chunks of its own.
      expect(sizes.totalBytes).toBeGreaterThan(sizes.coldStartBytes);
    },
    120_000,
  );
});
