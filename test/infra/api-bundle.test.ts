import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUNDLE_OPTIONS } from '#infra/constructs/app-function.ts';
import { PROJECT_ROOT } from './synth.ts';

/** The document readers: only the ingest function may carry them. */
const EXTRACTORS = [
  'unpdf',
  'mammoth',
  'linkedom',
  '@mozilla/readability',
  'html-to-text',
  'jszip',
  'htmlparser2',
] as const;

/** The packages (and first-party extraction code) a function's bundle is made of, built as a deployment builds it. */
async function bundleInputs(fn: 'api' | 'ingest' | 'chat-stream'): Promise<string[]> {
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [`functions/${fn}/handler.ts`],
    bundle: true,
    platform: 'node',
    format: BUNDLE_OPTIONS.format === 'esm' ? 'esm' : 'cjs',
    target: BUNDLE_OPTIONS.target,
    minify: BUNDLE_OPTIONS.minify,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    external: [...BUNDLE_OPTIONS.externalModules],
    banner: { js: BUNDLE_OPTIONS.banner },
    metafile: true,
    write: false,
    outfile: `/tmp/${fn}-bundle/index.mjs`,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

const packagesIn = (inputs: string[]) =>
  EXTRACTORS.filter((p) => inputs.some((i) => i.includes(`node_modules/${p}/`)));

describe('function bundles as deployed', () => {
  it('when the api function is bundled then no document extractor is in it', async () => {
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
