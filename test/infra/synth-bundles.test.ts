import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
  }, 600_000);
});
