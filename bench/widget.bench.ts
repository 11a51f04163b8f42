import { gzipSync } from 'node:zlib';
import { createLocalServer } from '#cli/server/local-server.ts';
import { WIDGET_SCRIPT } from '#functions/api/widget-script.generated.ts';
import { createSource } from '#shared/usecases/sources.ts';
import { FAKE_OPENAI_API_KEY, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { markdownDocument, TOPICS } from './lib/corpus.ts';
import { createBenchTenant, startEmbeddedPlatform } from './lib/embedded.ts';
import { listen } from './lib/http.ts';
import { type Bench, figure } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const ORIGIN = 'https://help.bench.invalid';

/** Milliseconds from sending the request to the first chunk of its body (the `meta` event). */
async function firstByte(url: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok || !res.body) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  await reader.read();
  const at = performance.now() - started;
  while (!(await reader.read()).done) {
    // drain: the answer is saved before the stream ends
  }
  return at;
}

export const widgetBench: Bench = {
  name: 'widget',
  async run(ctx) {
    const rounds = ctx.quick ? 20 : 60;
    const fake = await startFakeOpenAi();
    const embedded = await startEmbeddedPlatform({ ALLOW_LOCAL_PROVIDER_URLS: 'true' });
    const p = embedded.platform;
    const { app, worker } = createLocalServer(p);
    const server = await listen(app.fetch);
    try {
      const tenant = await createBenchTenant(p, 'widget');
      const random = seededRandom(7);
      for (let i = 0; i < 10; i++) {
        await createSource(
          tenant.auth,
          {
            title: `Guide ${i}`,
            type: 'markdown',
            content: markdownDocument(random, TOPICS[i % TOPICS.length]!, 6),
          },
          { ...p, embeddingSpace: p.embedder.space },
        );
      }
      await worker.idle();
      const member = { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' };
      const post = async (path: string, body: unknown, headers: Record<string, string> = member) => {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
        return (await res.json()) as Record<string, string>;
      };
      const bot = await post('/v1/bots', {
        name: 'Bench bot',
        provider: 'openai',
        model: 'gpt-4o-mini',
        base_url: fake.url,
        credentials: { api_key: FAKE_OPENAI_API_KEY },
      });
      const key = await post(`/v1/bots/${bot.id}/publishable-keys`, { allowed_origins: [ORIGIN] });
      const session = await post(`/v1/public/sessions?key=${key.key}`, undefined, {
        authorization: `Bearer ${key.key}`,
        origin: ORIGIN,
      });
      const visitor = {
        authorization: `Bearer ${session.token}`,
        'content-type': 'application/json',
        origin: ORIGIN,
      };
      const question = { content: 'How does the satellite thruster change the orbit apogee?', stream: true };
      const privateTimes: number[] = [];
      const publicTimes: number[] = [];
      // Interleaved, a fresh chat per question (no query rewrite), so both see the same machine and data.
      for (let i = 0; i < rounds + 5; i++) {
        const chat = await post('/v1/chats', { bot_id: bot.id });
        const priv = await firstByte(`${server.url}/v1/chats/${chat.id}/messages`, member, question);
        const visitorChat = await post(`/v1/public/chats?key=${key.key}`, {}, visitor);
        const pub = await firstByte(
          `${server.url}/v1/public/chats/${visitorChat.id}/messages?key=${key.key}`,
          visitor,
          question,
        );
        if (i >= 5) {
          privateTimes.push(priv);
          publicTimes.push(pub);
        }
      }
      const priv = summarize(privateTimes);
      const pub = summarize(publicTimes);
      const gzipped = gzipSync(WIDGET_SCRIPT, { level: 9 }).length / 1024;
      return {
        figures: [
          figure(
            'widget.js gzipped',
            gzipped,
            'KB',
            { label: 'the issue’s limit', value: 30 },
            {
              text: '≤ 30 KB gzipped',
              met: (v) => v <= 30,
            },
          ),
          figure('widget.js minified', WIDGET_SCRIPT.length / 1024, 'KB', {
            label: 'gzipped',
            value: gzipped,
          }),
          figure('public chat first byte p50', pub.p50, 'ms', {
            label: 'private route (API token) p50',
            value: priv.p50,
          }),
          figure('public chat first byte p95', pub.p95, 'ms', {
            label: 'private route (API token) p95',
            value: priv.p95,
          }),
        ],
        notes: [
          `First byte of POST …/messages with stream: true on the local server (PGlite, offline embedder, 10 markdown sources, bot → the zero-latency fake OpenAI on loopback): the private route with the owner's API token against the public route with a visitor token (visitor token verified, key re-read for revocation and origin, visitor chat check, key limits counted under the quota lock). ${rounds} interleaved pairs after 5 warm-up pairs, a fresh chat each (no rewrite), client in the same process.`,
          'widget.js is the esbuild IIFE served at /widget.js (functions/api/widget-script.generated.ts); gzip level 9.',
        ],
        details: { private: priv, public: pub, gzippedBytes: Math.round(gzipped * 1024) },
      };
    } finally {
      await server.close();
      await worker.stop();
      await embedded.dispose();
      await fake.close();
    }
  },
};
