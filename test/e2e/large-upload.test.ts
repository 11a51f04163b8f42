import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageMarker, writeLargePdf } from '#test/fixtures/rag/large-pdf.ts';
import { runCli } from './cli-process.ts';
import { Http, type SourceRow } from './http-flow.ts';
import { removeDir, type ServerProcess, startServer, tempDir, waitFor } from './server-process.ts';

const MB = 1024 * 1024;

/**
 * The local server's resident memory (VmRSS of its one process; worker threads included), sampled every
 * 50 ms until stopped: the peak is what a large upload costs the server.
 */
function rssSampler(pid: number) {
  let peak = 0;
  let stopped = false;
  const sample = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb * 1024);
  };
  const loop = (async () => {
    while (!stopped) {
      await sample();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    current: async () => {
      await sample();
      return peak;
    },
    async stop() {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

/**
 * `npm start` + `npx minirag ingest big.pdf`: the file is generated here (no download), streamed to the local
 * server's upload route, completed, ingested and searched. MINIRAG_LARGE_UPLOAD=1 runs the full-size case
 * (60 MB, 1,000 pages); otherwise a 5 MB, 100-page file goes the same way.
 */
const large = process.env.MINIRAG_LARGE_UPLOAD === '1';
const SIZE = large ? 60 * MB : 5 * MB;
const PAGES = large ? 1_000 : 100;

describe(`a ${SIZE / MB} MB, ${PAGES}-page PDF through the CLI and the local server`, {
  timeout: 900_000,
}, () => {
  let server: ServerProcess;
  let dataDir: string;
  let work: string;
  let home: string;

  beforeAll(async () => {
    dataDir = await tempDir('minirag-big-data-');
    work = await tempDir('minirag-big-work-');
    home = await tempDir('minirag-big-home-');
    server = await startServer({ dataDir, timeoutMs: 180_000 });
  }, 200_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const dir of [dataDir, work, home]) if (dir) await removeDir(dir);
  });

  it('when it is ingested with `minirag ingest` then it ends COMPLETED, its pages are searchable, and the server stays under 600 MB RSS during the upload', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      runCli(args, { home, cwd: work, env: { MINIRAG_API_URL: server.url, ...env } });
    const adminToken = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')).adminToken;
    const created = await cli(['tenant', 'create', 'Big Files', '--email', 'big@files.example.com'], {
      MINIRAG_ADMIN_TOKEN: adminToken,
    });
    expect(created.code, created.stderr).toBe(0);
    const token = /API token: (mrag_\S+)/.exec(created.stdout)![1]!;

    const path = join(work, 'big.pdf');
    const bytes = await writeLargePdf(path, PAGES, SIZE);
    expect(bytes).toBeGreaterThan(SIZE * 0.95);

    const rss = rssSampler(server.child.pid!);
    const before = await rss.current();
    const started = Date.now();
    const upload = await cli(['ingest', 'big.pdf', '--no-wait']);
    const uploadMs = Date.now() - started;
    const uploadPeak = await rss.current();
    expect(upload.code, upload.stderr + upload.stdout).toBe(0);
    expect(upload.stdout).toContain('1 queued');

    const http = new Http(server.url, token);
    const source = await waitFor(
      'the source to be COMPLETED',
      async () => {
        const [s] = (await http.get<{ data: SourceRow[] }>('/v1/sources')).data;
        if (s?.status === 'FAILED') throw new Error(`ingestion failed: ${s.error}`);
        return s?.status === 'COMPLETED' ? s : undefined;
      },
      large ? 840_000 : 240_000,
      500,
    );
    const ingestMs = Date.now() - started - uploadMs;
    const ingestPeak = await rss.stop();
    expect(source.chunk_count).toBeGreaterThan(PAGES / 10);

    // A page deep inside the file is found by retrieval.
    const page = Math.floor(PAGES * 0.77);
    const bot = await http.post<{ id: string }>('/v1/bots', { name: 'Extractive' });
    const chat = await http.post<{ id: string }>('/v1/chats', { bot_id: bot.id });
    const answer = await http.post<{ citations: { source_id: string; text?: string; snippet?: string }[] }>(
      `/v1/chats/${chat.id}/messages`,
      { content: `Which page shows ${pageMarker(page)}?` },
    );
    expect(answer.citations.map((c) => c.source_id)).toContain(source.id);
    expect(JSON.stringify(answer)).toContain(pageMarker(page));

    process.stdout.write(
      `large upload: ${(bytes / MB).toFixed(1)} MB, ${PAGES} pages, ${source.chunk_count} chunks; ` +
        `upload ${(uploadMs / 1000).toFixed(1)} s, ingestion ${(ingestMs / 1000).toFixed(1)} s; server RSS ` +
        `${(before / MB).toFixed(0)} MB before, peak ${(uploadPeak / MB).toFixed(0)} MB during the upload, ` +
        `peak ${(ingestPeak / MB).toFixed(0)} MB during ingestion\n`,
    );
    // The bytes stream to disk: the upload may not grow the server by more than a few buffers, whatever the
    // file's size, and the whole server (mostly PGlite's WebAssembly memory) stays under 600 MB meanwhile.
    expect(uploadPeak - before).toBeLessThan(64 * MB);
    expect(uploadPeak).toBeLessThan(600 * MB);
  });
});
