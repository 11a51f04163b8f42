import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '#functions/ingest/app.ts';
import { extractLimitsOf } from '#shared/composition/ingest-deps.ts';
import { loadConfig } from '#shared/config/load.ts';
import { type ExtractLimits, extractText } from '#shared/rag/extract/index.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  getSourceJson,
  type IngestHarness,
  sqsEvent,
  sqsRecord,
  startIngestHarness,
  uploadFile,
} from '#test/fixtures/ingest.ts';
import {
  makeDocxBomb,
  makeManyPagePdf,
  makeNestedHtml,
  makePdfStreamBomb,
} from '#test/fixtures/rag/bombs.ts';
import { makeDocx } from '#test/fixtures/rag/documents.ts';
import { type Random, seededRandom } from '#test/fixtures/seeded-random.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

const MB = 1024 * 1024;

/** Small limits for the local worker, set the way an operator would: environment → config schema. */
const SMALL_LIMITS_ENV = {
  EXTRACT_MAX_EXPANDED_MB: '8',
  EXTRACT_MAX_ENTRY_MB: '4',
  EXTRACT_MAX_PAGES: '50',
  EXTRACT_MAX_HTML_DEPTH: '64',
  EXTRACT_MAX_HEAP_MB: '256',
};

/**
 * The ceiling on the test process's RSS growth while the bombs are read: two worker threads of 256 MB heap
 * each plus pdf.js and the generated documents. Without isolation and limits one 30 MB docx bomb alone took
 * mammoth past a gigabyte, and issue 13 saw 3.4 GB.
 */
const RSS_GROWTH_BOUND = 900 * MB;

interface Upload {
  readonly name: string;
  readonly type: string;
  readonly bytes: Uint8Array;
  /** The FAILED reason a bomb must end with; undefined for a good document, which must complete. */
  readonly reason?: RegExp;
}

/** A generated mix: hostile documents of random shape and size just past (or far past) the limits, and good ones. */
async function generateBatch(
  random: Random,
  limits: { pages: number; depth: number },
  label: string,
): Promise<Upload[]> {
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo));
  const kinds = [
    async (): Promise<Upload> => ({
      name: 'bomb.docx',
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      bytes: await makeDocxBomb(between(10, 40) * MB, random() < 0.5 ? 'paragraphs' : 'one-paragraph'),
      // Whichever limit the inflation crosses first: the ratio, or (small limits) the entry's size.
      reason: /^A part of the document expands (more than 100 times|beyond 4 MB) when unpacked/,
    }),
    async (): Promise<Upload> => ({
      name: 'deep.html',
      type: 'text/html',
      bytes: new TextEncoder().encode(makeNestedHtml(between(limits.depth + 1, 50_000))),
      reason: new RegExp(`^The page nests elements more than ${limits.depth} levels deep`),
    }),
    async (): Promise<Upload> => {
      const pages = between(limits.pages + 1, limits.pages * 3);
      return {
        name: 'long.pdf',
        type: 'application/pdf',
        bytes: makeManyPagePdf(pages),
        reason: new RegExp(`^The PDF has ${pages.toLocaleString('en-US')} pages; MiniRAG reads at most`),
      };
    },
    async (): Promise<Upload> => ({
      name: 'stream-bomb.pdf',
      type: 'application/pdf',
      bytes: await makePdfStreamBomb(between(10, 40) * MB),
      reason: /^A part of the document expands (more than 100 times|beyond 4 MB) when unpacked/,
    }),
  ];
  const uploads: Upload[] = [];
  // Every kind once, then two more at random.
  for (const kind of kinds) uploads.push(await kind());
  for (let i = 0; i < 2; i++) uploads.push(await kinds[Math.floor(random() * kinds.length)]!());
  uploads.push(
    {
      name: 'good.docx',
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      bytes: await makeDocx(`Pump manual ${label}`, ['Prime the pump weekly.', 'Check the seals monthly.']),
    },
    {
      name: 'good.html',
      type: 'text/html',
      bytes: new TextEncoder().encode(
        `<html><body><article><h1>Valves ${label}</h1><p>Close the valve slowly to avoid water hammer.</p></article></body></html>`,
      ),
    },
    {
      name: 'good.txt',
      type: 'text/plain',
      bytes: new TextEncoder().encode(`Boiler notes ${label}: 3 bar.`),
    },
  );
  return uploads;
}

/** GET /healthz on a connection of its own (a reused keep-alive socket may meet the server closing it). */
function healthz(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/healthz`, { agent: false, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('healthz timed out')));
  });
}

/**
 * Probes GET /healthz over real HTTP every 100 ms and samples RSS until stopped. The probe and the server
 * share this process's event loop, so a blocked loop shows up either as a slow answer or as a late probe;
 * both are measured.
 */
function watchServer(url: string) {
  const baseline = process.memoryUsage.rss();
  let worstMs = 0;
  let peakRss = baseline;
  let probes = 0;
  let running = true;
  const loop = (async () => {
    let last = performance.now();
    while (running) {
      const started = performance.now();
      worstMs = Math.max(worstMs, started - last - 100);
      expect(await healthz(url)).toBe(200);
      probes++;
      worstMs = Math.max(worstMs, performance.now() - started);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      last = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { worstMs, rssGrowth: peakRss - baseline, probes };
  };
}

/**
 * Starts the extraction workers before the clock runs, as a server that has read a document before has
 * them. From source each worker loads its readers through tsx, seconds of CPU that on a busy shared machine
 * starve the main thread as any CPU-bound process would; the bundled Lambda loads prebuilt JavaScript.
 */
async function warmUpWorkers(limits: ExtractLimits): Promise<void> {
  const page = new TextEncoder().encode('<html><body><p>Warm-up.</p></body></html>');
  await Promise.all([1, 2].map(() => extractText({ bytes: page, type: 'html' }, limits)));
}

describe.each(databaseKinds())('document bombs through the real ingest path on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  let server: ServerType;
  let url: string;
  let localLimits: ExtractLimits;

  beforeAll(async () => {
    database = await kind.create();
    const env = { MAX_UPLOAD_BYTES: String(10 * MB), ...SMALL_LIMITS_ENV };
    localLimits = extractLimitsOf(loadConfig(env));
    h = await startIngestHarness(database, {
      startWorker: false,
      platform: { env },
      ingest: { extractLimits: localLimits },
    });
    tenant = await createTestTenant(h.api, 'bombs');
    server = serve({ fetch: h.api.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The first request builds the router; that one-off cost is not what the probes measure.
    expect(await healthz(url)).toBe(200);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.dispose();
    await database.dispose();
  });

  async function uploadAll(uploads: readonly Upload[]): Promise<string[]> {
    const ids: string[] = [];
    for (const upload of uploads) {
      const res = await uploadFile(h, tenant.apiToken, upload);
      expect(res.status, await res.clone().text()).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    return ids;
  }

  async function expectOutcomes(uploads: readonly Upload[], ids: readonly string[]): Promise<void> {
    for (const [i, upload] of uploads.entries()) {
      const source = await getSourceJson(h, tenant.apiToken, ids[i]!);
      if (upload.reason) {
        expect(source.status, upload.name).toBe('FAILED');
        expect(source.error, upload.name).toMatch(upload.reason);
        // One attempt: the cap's verdict is final, never retried.
        const attempts = h.platform.logger.lines.filter(
          (line) => line.includes('ingest attempt failed') && line.includes(ids[i]!),
        );
        expect(attempts, upload.name).toHaveLength(1);
      } else {
        expect(source.status, upload.name).toBe('COMPLETED');
      }
    }
  }

  it('when the local worker reads generated bombs with configured limits then the server keeps answering and only the bombs fail, each after one attempt', async () => {
    const uploads = await generateBatch(seededRandom(13), { pages: 50, depth: 64 }, 'local');
    const ids = await uploadAll(uploads);
    await warmUpWorkers(localLimits);
    const stop = watchServer(url);
    h.worker.start();
    await h.idle();
    await h.worker.stop(1_000);
    const watched = await stop();
    await expectOutcomes(uploads, ids);
    expect(watched.probes).toBeGreaterThan(0);
    expect(watched.worstMs).toBeLessThan(1_000);
    expect(watched.rssGrowth).toBeLessThan(RSS_GROWTH_BOUND);
  }, 180_000);

  it('when one SQS batch holds generated bombs and good documents under the default limits then the batch succeeds, the bombs are FAILED and not redelivered', async () => {
    const uploads = await generateBatch(seededRandom(2026), { pages: 2_000, depth: 256 }, 'lambda');
    const ids = await uploadAll(uploads);
    // The ingest Lambda's app with the default limits (no EXTRACT_* variables set).
    const defaults = extractLimitsOf(loadConfig({}));
    const handle = createIngestApp({ ...h.ingestDeps, extractLimits: defaults, maxAttempts: 5 });
    await warmUpWorkers(defaults);
    const records = ids.map((id) =>
      sqsRecord(JSON.stringify({ tenantId: tenant.id, sourceId: id, version: 1 })),
    );
    const stop = watchServer(url);
    const out = await handle(sqsEvent(...records));
    const watched = await stop();
    // A rejected document is final: its record succeeds, so SQS neither redelivers it nor dead-letters it.
    expect(out.batchItemFailures).toEqual([]);
    await expectOutcomes(uploads, ids);
    expect(watched.worstMs).toBeLessThan(1_000);
    expect(watched.rssGrowth).toBeLessThan(RSS_GROWTH_BOUND);
  }, 180_000);
});
