import { Hono } from 'hono';
import { createLocalServer } from '#cli/server/local-server.ts';
import { createSource } from '#shared/usecases/sources.ts';
import {
  createBenchTenant,
  type EmbeddedPlatform,
  startEmbeddedPlatform,
  startServerPlatform,
} from './lib/embedded.ts';
import { autocannon, type LoadResult, listen } from './lib/http.ts';
import { type Bench, type Figure, figure } from './lib/report.ts';
import { median, percentile } from './lib/stats.ts';

const CONNECTIONS = 10;
const SECONDS = 5;
const SOURCES = 20;
const IN_PROCESS_REQUESTS = 500;

interface Measured {
  readonly load: LoadResult[];
  /** Sequential `app.request` latencies, no HTTP: what the app and the database add per request. */
  readonly inProcessMs: number[];
}

/** Sequential calls of a route without HTTP, each read to the end; ms per call. */
async function inProcessLatencies(
  request: (init: RequestInit) => Response | Promise<Response>,
  headers: Record<string, string>,
): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < IN_PROCESS_REQUESTS; i++) {
    const t = performance.now();
    const res = await request({ headers });
    await res.arrayBuffer();
    ms.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`in-process GET /v1/sources answered ${res.status}`);
  }
  return ms;
}

/** Authenticated GET /v1/sources against one platform: HTTP load with autocannon, then in-process latency. */
async function measure(
  ctx: Parameters<Bench['run']>[0],
  start: () => Promise<EmbeddedPlatform>,
  runs: number,
): Promise<Measured> {
  const embedded = await start();
  const p = embedded.platform;
  const { app, worker } = createLocalServer(p);
  const server = await listen(app.fetch);
  try {
    const tenant = await createBenchTenant(p, 'api');
    for (let i = 0; i < SOURCES; i++) {
      await createSource(
        tenant.auth,
        { title: `Note ${i}`, type: 'text', content: `Benchmark note number ${i}.` },
        { ...p, embeddingSpace: p.embedder.space },
      );
    }
    await worker.idle(); // the sources are ingested before the load starts, so the worker is quiet
    const headers = { authorization: `Bearer ${tenant.token}` };
    const check = await fetch(`${server.url}/v1/sources`, { headers });
    const listed = (await check.json()) as { data?: unknown[] };
    if (check.status !== 200 || listed.data?.length !== SOURCES) {
      throw new Error(`GET /v1/sources answered ${check.status} with ${listed.data?.length} sources`);
    }
    const url = `${server.url}/v1/sources`;
    await autocannon(ctx.repoRoot, url, { connections: CONNECTIONS, seconds: 1, headers }); // warm-up
    const load: LoadResult[] = [];
    for (let i = 0; i < runs; i++) {
      load.push(await autocannon(ctx.repoRoot, url, { connections: CONNECTIONS, seconds: SECONDS, headers }));
    }
    const inProcessMs = await inProcessLatencies((init) => app.request('/v1/sources', init), headers);
    return { load, inProcessMs };
  } finally {
    await server.close();
    await worker.stop();
    await embedded.dispose();
  }
}

export const apiBench: Bench = {
  name: 'api',
  async run(ctx) {
    const runs = ctx.quick ? 1 : 3;
    const bare = new Hono();
    bare.get('/v1/sources', (c) => c.json({ data: [], next_cursor: null }));
    const bareServer = await listen(bare.fetch);
    const bareInProcess = await inProcessLatencies((init) => bare.request('/v1/sources', init), {});
    const plain: LoadResult[] = [];
    let embedded: Measured;
    let server: Measured | undefined;
    const serverUrl = process.env.DATABASE_URL;
    try {
      await autocannon(ctx.repoRoot, `${bareServer.url}/v1/sources`, {
        connections: CONNECTIONS,
        seconds: 1,
      });
      for (let i = 0; i < runs; i++) {
        plain.push(
          await autocannon(ctx.repoRoot, `${bareServer.url}/v1/sources`, {
            connections: CONNECTIONS,
            seconds: SECONDS,
          }),
        );
      }
      embedded = await measure(ctx, () => startEmbeddedPlatform(), runs);
      ctx.log(`embedded: ${median(embedded.load.map((r) => r.requestsPerSecond)).toFixed(0)} req/s`);
      if (serverUrl) {
        server = await measure(ctx, () => startServerPlatform(serverUrl), runs);
        ctx.log(`PostgreSQL server: ${median(server.load.map((r) => r.requestsPerSecond)).toFixed(0)} req/s`);
      }
    } finally {
      await bareServer.close();
    }
    const all = [...plain, ...embedded.load, ...(server?.load ?? [])];
    const failures = all.reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (failures > 0) throw new Error(`${failures} requests failed or answered non-2xx under load`);

    const bareRps = median(plain.map((r) => r.requestsPerSecond));
    const bareBaseline = { label: 'bare Hono route, same process', value: bareRps };
    const bareP99 = { label: 'bare Hono route p99', value: median(plain.map((r) => r.p99)) };
    const rows = (label: string, m: Measured, target?: { text: string; ratio: number }): Figure[] => [
      figure(
        `authenticated GET /v1/sources throughput, ${label}`,
        median(m.load.map((r) => r.requestsPerSecond)),
        'req/s',
        bareBaseline,
        target && { text: target.text, met: (_v, ratio) => ratio >= target.ratio },
      ),
      figure(`authenticated GET /v1/sources p50, ${label}`, median(m.load.map((r) => r.p50)), 'ms', {
        label: 'bare Hono route p50',
        value: median(plain.map((r) => r.p50)),
      }),
      figure(`authenticated GET /v1/sources p99, ${label}`, median(m.load.map((r) => r.p99)), 'ms', bareP99),
      figure(`in-process GET /v1/sources p50, ${label}`, median(m.inProcessMs), 'ms', {
        label: 'bare Hono in-process p50',
        value: median(bareInProcess),
      }),
      figure(`in-process GET /v1/sources p99, ${label}`, percentile(m.inProcessMs, 99), 'ms', {
        label: 'bare Hono in-process p99',
        value: percentile(bareInProcess, 99),
      }),
    ];
    return {
      figures: [
        ...rows('PGlite', embedded, { text: '≥ 25% of bare Hono', ratio: 0.25 }),
        ...(server ? rows('PostgreSQL server', server, { text: '≥ 10% of bare Hono', ratio: 0.1 }) : []),
      ],
      notes: [
        `autocannon in a child process, loopback, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${runs} run(s) after a 1 s warm-up; 0 errors / non-2xx. In-process: ${IN_PROCESS_REQUESTS} sequential app.request() calls after the load (warm caches), no HTTP.`,
        `Server: createLocalServer (the \`npm start\` app: request id, body limit, API-token auth, then the tenant-scoped list query under RLS) on @hono/node-server. A resolved API token is reused for up to 5 s (shared/auth/credential-cache.ts), so a warm authenticated list is one transaction: BEGIN, set the tenant, SELECT, COMMIT. The tenant has ${SOURCES} sources; each response lists them all (one page).`,
        serverUrl
          ? 'PostgreSQL server: DATABASE_URL, a fresh schema dropped afterwards, the app connected as the non-superuser login role with up to 10 connections (the Qdrant stand-in as vector store: this server has no pgvector; the list does not touch it).'
          : 'PostgreSQL server rows: skipped (DATABASE_URL is not set).',
        'Baseline: a bare Hono route returning an empty JSON list, served by @hono/node-server in the same process. PGlite is one connection, so authenticated requests are serialised on the database; the machine has few cores shared with the load generator.',
      ],
      details: { bare: plain, embedded, server },
    };
  },
};
