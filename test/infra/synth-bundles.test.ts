import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTRACTION_WORKER_FILE } from '#infra/constructs/ingest.ts';
import { defaultExtractLimits } from '#shared/rag/extract/index.ts';

const run = promisify(execFile);

/**
 * The one real `cdk synth` of the suite: bundles the four real handlers with esbuild (no Docker) and
 * runs cdk-nag, exactly as `cdk deploy` would before uploading. The assertion suites skip bundling.
 */
describe('cdk synth with the real bundles', () => {
  let out = '';
  afterAll(() => (out ? rm(out, { recursive: true, force: true }) : undefined));

  it('when the app is synthesized then every function bundle is built and cdk-nag reports nothing', async () => {
    out = await mkdtemp(join(tmpdir(), 'minirag-synth-'));
    await run('npx', ['cdk', 'synth', '--no-notices', '-q', '-o', out], {
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      timeout: 240_000,
    });
    const template = JSON.parse(
      await readFile(join(out, 'MiniRag-dev.template.json'), 'utf8').catch(async () => {
        const name = (await readdir(out)).find((f) => f.endsWith('.template.json'))!;
        return readFile(join(out, name), 'utf8');
      }),
    );
    const functions = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        String((r.Properties.Handler as string) ?? '').startsWith('index.'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(4);
    const assets = (await readdir(out)).filter((d) => d.startsWith('asset.'));
    const bundles: number[] = [];
    for (const dir of assets) {
      const entry = join(out, dir, 'index.mjs');
      const size = await stat(entry)
        .then((s) => s.size)
        .catch(() => 0);
      if (size > 0) bundles.push(size);
    }
    expect(bundles.length).toBeGreaterThanOrEqual(4);

    // The ingest function reads documents in worker threads: their entry is bundled beside its handler,
    // and it runs on its own (no tsx, no source tree), answering the way read-in-worker.ts expects.
    const withWorker: string[] = [];
    for (const dir of assets) {
      const files = await readdir(join(out, dir)).catch((): string[] => []);
      if (files.includes(EXTRACTION_WORKER_FILE)) withWorker.push(dir);
    }
    expect(withWorker).toHaveLength(1);
    const workerFile = join(out, withWorker[0]!, EXTRACTION_WORKER_FILE);
    const worker = new Worker(workerFile);
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
  }, 300_000);
});
