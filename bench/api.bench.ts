import { Hono } from 'hono';
import { createLocalServer } from '#cli/server/local-server.ts';
import { createSource } from '#shared/usecases/sources.ts';
import { createBenchTenant, startEmbeddedPlatform } from './lib/embedded.ts';
import { autocannon, type LoadResult, listen } from './lib/http.ts';
import { type Bench, figure } from './lib/report.ts';
import { median } from './lib/stats.ts';

const CONNECTIONS = 10;
const SECONDS = 5;
const SOURCES = 20;

export const apiBench: Bench = {
  name: 'api',
  async run(ctx) {
    const runs = ctx.quick ? 1 : 3;
    const embedded = await startEmbeddedPlatform();
    const p = embedded.platform;
    const { app, worker } = createLocalServer(p);
    const tenant = await createBenchTenant(p, 'api');
    for (let i = 0; i < SOURCES; i++) {
      await createSource(
        tenant.auth,
        { title: `Note ${i}`, type: 'text', content: `Benchmark note number ${i}.` },
        { ...p, embeddingSpace: p.embedder.space },
      );
    }
    await worker.idle(); // the sources are ingested before the load starts, so the worker is quiet
    const bare = new Hono();
    bare.get('/v1/sources', (c) => c.json({ data: [], next_cursor: null }));

    const platformServer = await listen(app.fetch);
    const bareServer = await listen(bare.fetch);
    const authenticated: LoadResult[] = [];
    const plain: LoadResult[] = [];
    try {
      const headers = { authorization: `Bearer ${tenant.token}` };
      const check = await fetch(`${platformServer.url}/v1/sources`, { headers });
      const listed = (await check.json()) as { data?: unknown[] };
      if (check.status !== 200 || listed.data?.length !== SOURCES) {
        throw new Error(`GET /v1/sources answered ${check.status} with ${listed.data?.length} sources`);
      }
      const load = (url: string, h?: Record<string, string>, seconds = SECONDS) =>
        autocannon(ctx.repoRoot, url, { connections: CONNECTIONS, seconds, ...(h ? { headers: h } : {}) });
      await load(`${platformServer.url}/v1/sources`, headers, 1); // warm-up (JIT, PGlite caches)
      await load(`${bareServer.url}/v1/sources`, undefined, 1);
      for (let i = 0; i < runs; i++) {
        authenticated.push(await load(`${platformServer.url}/v1/sources`, headers));
        plain.push(await load(`${bareServer.url}/v1/sources`));
        ctx.log(
          `run ${i + 1}: ${authenticated.at(-1)?.requestsPerSecond.toFixed(0)} vs ${plain.at(-1)?.requestsPerSecond.toFixed(0)} req/s`,
        );
      }
    } finally {
      await platformServer.close();
      await bareServer.close();
      await worker.stop();
      await embedded.dispose();
    }
    const failures = [...authenticated, ...plain].reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (failures > 0) throw new Error(`${failures} requests failed or answered non-2xx under load`);

    const rps = median(authenticated.map((r) => r.requestsPerSecond));
    const bareRps = median(plain.map((r) => r.requestsPerSecond));
    return {
      figures: [
        figure(
          'authenticated GET /v1/sources throughput',
          rps,
          'req/s',
          { label: 'bare Hono route, same process', value: bareRps },
          { text: '≥ 25% of bare Hono', met: (_v, ratio) => ratio >= 0.25 },
        ),
        figure('authenticated GET /v1/sources p99', median(authenticated.map((r) => r.p99)), 'ms', {
          label: 'bare Hono route p99',
          value: median(plain.map((r) => r.p99)),
        }),
      ],
      notes: [
        `autocannon in a child process, loopback, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${runs} run(s) after a 1 s warm-up; 0 errors / non-2xx.`,
        `Server: createLocalServer (the \`npm start\` app: request id, body limit, API-token auth = SHA-256 lookup in its own transaction, then the tenant-scoped list query under RLS) on @hono/node-server, PGlite. The tenant has ${SOURCES} sources; each response lists them all (one page).`,
        'Baseline: a bare Hono route returning an empty JSON list, served by @hono/node-server in the same process. PGlite is one connection, so authenticated requests are serialised on the database; the machine has few cores shared with the load generator.',
      ],
      details: { authenticated, bare: plain },
    };
  },
};
