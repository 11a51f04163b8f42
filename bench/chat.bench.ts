import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalServer } from '#cli/server/local-server.ts';
import { createSource } from '#shared/usecases/sources.ts';
import { FAKE_OPENAI_API_KEY, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { markdownDocument, TOPICS } from './lib/corpus.ts';
import {
  createBenchTenant,
  type EmbeddedPlatform,
  startEmbeddedPlatform,
  startServerPlatform,
} from './lib/embedded.ts';
import { listen } from './lib/http.ts';
import { type Bench, type Figure, figure } from './lib/report.ts';
import type { LatencySummary } from './lib/stats.ts';
import type { StreamClientSpec, StreamTimings } from './lib/stream-client.ts';

const run = promisify(execFile);

interface ChatTimings {
  readonly platform: StreamTimings;
  readonly provider: StreamTimings;
  /** First-byte summaries of sequential runs with answer traces on and off (when asked for). */
  readonly traces?: { readonly on: LatencySummary[]; readonly off: LatencySummary[] };
}

/**
 * Streams questions at one platform (the local server on it) and at the fake provider directly, from a
 * client in its own process; returns both sides' timings.
 */
async function measureChat(
  ctx: Parameters<Bench['run']>[0],
  start: () => Promise<EmbeddedPlatform>,
  load: { sequential: number; rounds: number; concurrency: number },
  options: { readonly compareTraces?: boolean } = {},
): Promise<ChatTimings> {
  const { sequential, rounds, concurrency } = load;
  const fake = await startFakeOpenAi();
  const embedded = await start();
  const p = embedded.platform;
  const { app, worker } = createLocalServer(p);
  const server = await listen(app.fetch);
  try {
    const tenant = await createBenchTenant(p, 'chat');
    const random = seededRandom(11);
    for (let i = 0; i < 20; i++) {
      const topic = TOPICS[i % TOPICS.length]!;
      await createSource(
        tenant.auth,
        { title: `Handbook ${i}`, type: 'markdown', content: markdownDocument(random, topic, 6) },
        { ...p, embeddingSpace: p.embedder.space },
      );
    }
    await worker.idle();

    const headers = { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    const bot = await post('/v1/bots', {
      name: 'Bench bot',
      provider: 'openai',
      model: 'gpt-4o-mini',
      base_url: fake.url,
      credentials: { api_key: FAKE_OPENAI_API_KEY },
    });
    const spec: StreamClientSpec = {
      platform: { url: server.url, token: tenant.token, botId: bot.id },
      provider: { url: fake.url, apiKey: FAKE_OPENAI_API_KEY },
      question: 'How does the satellite thruster change the orbit apogee?',
      warmup: 5,
      sequential,
      rounds,
      concurrency,
    };
    // The client runs in its own process, as a real one would: in this process it could read a response
    // only when the server's event loop let go (after the answer was saved), which hid the first byte.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(ctx.repoRoot, 'bench', 'lib', 'stream-client.ts'), JSON.stringify(spec)],
      { cwd: ctx.repoRoot, maxBuffer: 16 * 1024 * 1024 },
    );
    const timings = JSON.parse(stdout) as ChatTimings;
    if (!options.compareTraces) return timings;

    // The same questions with answer traces off (ANSWER_TRACES=false), on a second server over the same
    // database: what recording and saving the trace adds to the first byte. Off and on alternate, twice
    // each, in fresh client processes (sequential questions only), so that neither side gets the quieter
    // moments of a shared machine.
    const untraced = createLocalServer({ ...p, config: { ...p.config, ANSWER_TRACES: false } });
    const untracedServer = await listen(untraced.app.fetch);
    const sequentialRun = async (url: string) => {
      const oneSpec: StreamClientSpec = { ...spec, platform: { ...spec.platform, url }, rounds: 0 };
      const out = await run(
        process.execPath,
        ['--import', 'tsx', join(ctx.repoRoot, 'bench', 'lib', 'stream-client.ts'), JSON.stringify(oneSpec)],
        { cwd: ctx.repoRoot, maxBuffer: 16 * 1024 * 1024 },
      );
      return (JSON.parse(out.stdout) as ChatTimings).platform.one.firstByte as LatencySummary;
    };
    const on: LatencySummary[] = [];
    const off: LatencySummary[] = [];
    try {
      for (let pair = 0; pair < 2; pair++) {
        off.push(await sequentialRun(untracedServer.url));
        on.push(await sequentialRun(server.url));
      }
    } finally {
      await untracedServer.close();
      await untraced.worker.stop();
    }
    return { ...timings, traces: { on, off } };
  } finally {
    await server.close();
    await worker.stop();
    await embedded.dispose();
    await fake.close();
  }
}

export const chatBench: Bench = {
  name: 'chat',
  async run(ctx) {
    const sequential = ctx.quick ? 30 : 100;
    const rounds = ctx.quick ? 1 : 3;
    const concurrency = 50;
    const load = { sequential, rounds, concurrency };
    const { platform, provider, traces } = await measureChat(
      ctx,
      () => startEmbeddedPlatform({ ALLOW_LOCAL_PROVIDER_URLS: 'true' }),
      load,
      { compareTraces: true },
    );
    const serverUrl = process.env.DATABASE_URL;
    const server = serverUrl
      ? await measureChat(ctx, () => startServerPlatform(serverUrl, { ALLOW_LOCAL_PROVIDER_URLS: 'true' }), {
          ...load,
          sequential: 10,
        })
      : undefined;
    const figures: Figure[] = [];
    for (const [label, key] of [
      ['1 stream', 'one'],
      [`${concurrency} concurrent streams`, 'many'],
    ] as const) {
      for (const [event, field] of [
        ['first SSE byte', 'firstByte'],
        ['`done`', 'done'],
      ] as const) {
        for (const stat of ['p50', 'p95'] as const) {
          const value = (platform[key][field] as LatencySummary)[stat];
          const base = (provider[key][field] as LatencySummary)[stat];
          const isTarget = key === 'one' && field === 'firstByte' && stat === 'p50';
          figures.push(
            figure(
              `chat ${event} ${stat}, ${label}`,
              value,
              'ms',
              { label: `fake provider called directly, ${stat}`, value: base },
              isTarget
                ? {
                    text: 'first byte p50 − provider first byte p50 ≤ 20 ms (platform overhead)',
                    met: (v) => v - base <= 20,
                  }
                : undefined,
            ),
          );
        }
      }
    }
    if (traces) {
      const mean = (xs: readonly LatencySummary[], stat: 'p50' | 'p95') =>
        xs.reduce((sum, x) => sum + x[stat], 0) / xs.length;
      for (const stat of ['p50', 'p95'] as const) {
        const base = mean(traces.off, stat);
        figures.push(
          figure(
            `chat first SSE byte ${stat}, 1 stream, answer traces on`,
            mean(traces.on, stat),
            'ms',
            { label: `answer traces off (ANSWER_TRACES=false), ${stat}`, value: base },
            stat === 'p50' ? { text: 'traces on − off ≤ 1 ms at p50', met: (v) => v - base <= 1 } : undefined,
          ),
        );
      }
    }
    if (server) {
      for (const [event, field] of [
        ['first SSE byte', 'firstByte'],
        ['`done`', 'done'],
      ] as const) {
        for (const stat of ['p50', 'p95'] as const) {
          figures.push(
            figure(
              `chat ${event} ${stat}, ${concurrency} concurrent streams, PostgreSQL server`,
              (server.platform.many[field] as LatencySummary)[stat],
              'ms',
              { label: `same on PGlite, ${stat}`, value: (platform.many[field] as LatencySummary)[stat] },
              field === 'firstByte' && stat === 'p50'
                ? { text: '≤ 200 ms', met: (v) => v <= 200 }
                : undefined,
            ),
          );
        }
      }
    }
    return {
      figures,
      notes: [
        `POST /v1/chats/{id}/messages with stream: true on the local server (createLocalServer on @hono/node-server, PGlite, offline embedder, 20 ingested markdown sources), bot provider openai → the zero-latency fake OpenAI server (test/fakes) on loopback; a fresh chat per question so no query rewrite runs. ${sequential} sequential questions, then ${rounds} round(s) of ${concurrency} at once; 5 warm-up questions.`,
        "First byte = the `meta` event. By design (shared/usecases/answering/stream-answer.ts) it is written only after the provider's first event, so that a refused key or a rate limit is still an ordinary HTTP error: it includes token auth, quota, bot + credential decryption, query embedding, hybrid retrieval, context assembly AND one provider round trip through the OpenAI SDK. Platform overhead = platform first byte − the fake's own first byte. With a zero-latency fake the whole answer follows at once, so `done` = first byte + saving the message and usage.",
        `Answer traces: ${sequential} sequential questions per run on PGlite, alternating off (a second server over the same database with ANSWER_TRACES=false) and on, two runs each, each in a fresh client process; the figure is the mean of the runs' percentiles.`,
        'Baseline: the same streamed completion asked of the fake provider directly (its own time to first byte / [DONE]), from the same client. The client is a separate Node process (bench/lib/stream-client.ts), as a real one would be; platform and fake share one process and event loop, as in `npm start`; with 50 streams the figures are queueing on that loop and on the single PGlite connection.',
        serverUrl
          ? `PostgreSQL server rows: the same local server on DATABASE_URL (a fresh schema, the non-superuser login role, 10 connections; the Qdrant stand-in as vector store since this server has no pgvector), ${rounds} round(s) of ${concurrency} concurrent streams; baseline = the PGlite figure of the same run.`
          : 'PostgreSQL server rows: skipped (DATABASE_URL is not set).',
      ],
      details: { platform, provider, traces, server },
    };
  },
};
