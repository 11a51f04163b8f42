/**
 * The chat bench's client, run as a child process (`node --import tsx bench/lib/stream-client.ts <spec>`):
 * in the server's own process it could read a response only when the server's event loop let go, so its
 * "first byte" was really the end of the server's work. Prints `{ platform, provider }` timings as JSON.
 */
import { type LatencySummary, summarize } from './stats.ts';

export interface StreamClientSpec {
  readonly platform: { readonly url: string; readonly token: string; readonly botId: string };
  readonly provider: { readonly url: string; readonly apiKey: string };
  readonly question: string;
  readonly warmup: number;
  readonly sequential: number;
  readonly rounds: number;
  readonly concurrency: number;
}

interface StreamTiming {
  readonly firstByte: number;
  readonly done: number;
}

export interface StreamTimings {
  readonly one: { readonly firstByte: LatencySummary; readonly done: LatencySummary };
  readonly many: { readonly firstByte: LatencySummary; readonly done: LatencySummary };
}

/** Times one streamed POST: first body byte, and the end of the stream (which must carry `doneMarker`). */
async function timeStream(url: string, init: RequestInit, doneMarker: string): Promise<StreamTiming> {
  const start = performance.now();
  const res = await fetch(url, init);
  if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let firstByte: number | undefined;
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    firstByte ??= performance.now() - start;
    text += decoder.decode(value, { stream: true });
  }
  const total = performance.now() - start;
  if (!text.includes(doneMarker) || text.includes('event: error')) {
    throw new Error(`the stream from ${url} did not finish cleanly: ${text.slice(-300)}`);
  }
  return { firstByte: firstByte ?? total, done: total };
}

async function measure(spec: StreamClientSpec, fn: () => Promise<StreamTiming>): Promise<StreamTimings> {
  for (let i = 0; i < spec.warmup; i++) await fn();
  const one: StreamTiming[] = [];
  for (let i = 0; i < spec.sequential; i++) one.push(await fn());
  const many: StreamTiming[] = [];
  for (let r = 0; r < spec.rounds; r++)
    many.push(...(await Promise.all(Array.from({ length: spec.concurrency }, fn))));
  const pick = (xs: StreamTiming[], key: keyof StreamTiming) => summarize(xs.map((x) => x[key]));
  return {
    one: { firstByte: pick(one, 'firstByte'), done: pick(one, 'done') },
    many: { firstByte: pick(many, 'firstByte'), done: pick(many, 'done') },
  };
}

async function main(spec: StreamClientSpec): Promise<void> {
  const headers = { authorization: `Bearer ${spec.platform.token}`, 'content-type': 'application/json' };
  // A fresh chat per question (not timed): with history the platform would first ask the model to rewrite it.
  const platformStream = async () => {
    const res = await fetch(`${spec.platform.url}/v1/chats`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ bot_id: spec.platform.botId }),
    });
    if (!res.ok) throw new Error(`POST /v1/chats answered ${res.status}: ${await res.text()}`);
    const chat = (await res.json()) as { id: string };
    return timeStream(
      `${spec.platform.url}/v1/chats/${chat.id}/messages`,
      { method: 'POST', headers, body: JSON.stringify({ content: spec.question, stream: true }) },
      'event: done',
    );
  };
  const providerStream = () =>
    timeStream(
      `${spec.provider.url}/chat/completions`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${spec.provider.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: spec.question }],
        }),
      },
      'data: [DONE]',
    );
  const platform = await measure(spec, platformStream);
  const provider = await measure(spec, providerStream);
  process.stdout.write(JSON.stringify({ platform, provider }));
}

const [, , specJson] = process.argv;
if (specJson) await main(JSON.parse(specJson) as StreamClientSpec);
