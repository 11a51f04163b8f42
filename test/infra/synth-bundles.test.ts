import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EXTRACTION_WORKER_FILE } from '#infra/constructs/function-bundle.ts';
import { defaultExtractLimits } from '#shared/rag/extract/index.ts';
import { deployedFunctions, readTemplate, synthesizedAssembly } from '#test/deployed/cloud-assembly.ts';

/**
 * The one real `cdk synth` of the suite, shared with the deployed-artifact tests (test/deployed/): bundles
 * the four real handlers with esbuild (no Docker) and runs cdk-nag as a validation plugin, exactly as
 * `cdk deploy` would before uploading. The assertion suites skip bundling.
 */
describe('cdk synth with the real bundles', () => {
  it('when the app is synthesized then every function bundle is built and cdk-nag reports nothing', async () => {
    // cdk-nag findings fail the synth itself (AwsSolutionsChecks is registered as a policy validation plugin).
    const out = await synthesizedAssembly();
    const functions = deployedFunctions(out, await readTemplate(out));
    expect(functions.map((f) => f.name).sort()).toEqual(['api', 'chat-stream', 'ingest', 'migrate']);
    for (const fn of functions) {
      expect(fn.handler).toBe('index.handler');
      expect((await stat(join(fn.assetDir, 'index.mjs'))).size).toBeGreaterThan(0);
    }
    // The migrate bundle carries the SQL files beside itself.
    const migrate = functions.find((f) => f.name === 'migrate')!;
    expect(
      (await readdir(join(migrate.assetDir, 'migrations'))).filter((f) => f.endsWith('.sql')).length,
    ).toBeGreaterThan(0);

    // The ingest function reads documents in worker threads: their entry is bundled beside its handler,
    // and it runs on its own (no tsx, no source tree), answering the way read-in-worker.ts expects.
    const ingest = functions.find((f) => f.name === 'ingest')!;
    expect(await readdir(ingest.assetDir)).toContain(EXTRACTION_WORKER_FILE);
    const worker = new Worker(join(ingest.assetDir, EXTRACTION_WORKER_FILE));
    try {
      const replies: unknown[] = [];
      const answered = new Promise<void>((resolve, reject) => {
        worker.on('message', (message) => {
          replies.push(message);
          if (replies.length === 2) resolve();
        });
        worker.once('error', reject);
      });
      const page = new TextEncoder().encode('<html><body><p>Bundled worker.</p></body></html>');
      worker.postMessage({ id: 1, input: { bytes: page, type: 'html' }, limits: defaultExtractLimits });
      await answered;
      expect(replies).toEqual(['ready', { id: 1, ok: true, text: 'Bundled worker.' }]);
    } finally {
      await worker.terminate();
    }
  }, 600_000);
});
