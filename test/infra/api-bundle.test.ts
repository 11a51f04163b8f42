import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction, functionBundle } from '#infra/constructs/function-bundle.ts';
import { EXTRACTOR_PACKAGES, packageOf } from './bundle-packages.ts';
import { PROJECT_ROOT } from './synth.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/**
 * Every module a function's asset holds, its on-demand chunks included, built with the deploy options
 * (function-bundle.ts, as `cdk synth` builds it).
 */
async function bundleInputs(fn: 'api' | 'ingest'): Promise<string[]> {
  const outdir = await mkdtemp(join(tmpdir(), `minirag-${fn}-bundle-`));
  dirs.push(outdir);
  const metafile = bundleFunction(PROJECT_ROOT, functionBundle(PROJECT_ROOT, fn), outdir);
  return Object.keys(metafile.inputs);
}

const packagesIn = (inputs: string[]) => {
  const packages = new Set(inputs.map(packageOf));
  return EXTRACTOR_PACKAGES.filter((p) => packages.has(p));
};

describe('function bundles as deployed', () => {
  it('when the api function is bundled then no document extractor is in it, not even as an on-demand chunk', async () => {
    const inputs = await bundleInputs('api');
    expect(packagesIn(inputs)).toEqual([]);
    expect(inputs.filter((i) => i.startsWith('shared/rag/extract/'))).toEqual([]);
    // The bundle is the real one: it does carry the api's own routes and the S3 presigner's caller.
    expect(inputs).toContain('functions/api/routes/source-uploads.ts');
    expect(inputs).toContain('shared/adapters/s3/blob-store.ts');
  }, 120_000);

  it('when the ingest function is bundled then the extractors are there (the check above can see them)', async () => {
    const inputs = await bundleInputs('ingest');
    expect(packagesIn(inputs)).toEqual(expect.arrayContaining(['unpdf', 'mammoth', 'linkedom', 'jszip']));
  }, 120_000);
});
