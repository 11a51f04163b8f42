import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The key the Cohere stand-in accepts. */
export const FAKE_COHERE_API_KEY = 'FakeCohereKey0123456789abcdefghijklmnopqrst';

export type CohereBehaviour =
  | { readonly kind: 'ok' }
  | { readonly kind: 'error'; readonly status: number; readonly retryAfter?: number };

export interface CohereRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Record<string, unknown> | undefined;
  status: number;
}

export interface FakeCohere {
  readonly url: string;
  readonly requests: CohereRequest[];
  script(...behaviours: CohereBehaviour[]): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A stand-in for Cohere's rerank API on 127.0.0.1: `POST /v2/rerank` with a Bearer key, `{ model, query,
 * documents, top_n }` in, `{ id, results: [{ index, relevance_score }], meta: { billed_units } }` out, scored
 * by the share of the query's words a document contains. Errors are Cohere's `{ message }` JSON; with
 * `echoKey`, they quote the presented key, so a leak scan catches any path that forwards them.
 */
export async function startFakeCohere(options: { echoKey?: boolean } = {}): Promise<FakeCohere> {
  const requests: CohereRequest[] = [];
  const queue: CohereBehaviour[] = [];
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const record: CohereRequest = { path: req.url ?? '/', headers: req.headers as never, body, status: 0 };
    requests.push(record);
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const reply = (status: number, payload: object, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
    };
    const echoed = options.echoKey ? ` (key ${key ?? ''})` : '';
    if (req.method !== 'POST' || record.path !== '/v2/rerank') return reply(404, { message: 'not found' });
    if (key !== FAKE_COHERE_API_KEY) return reply(401, { message: `invalid api token${echoed}` });
    const behaviour = queue.shift() ?? { kind: 'ok' };
    if (behaviour.kind === 'error') {
      const headers: Record<string, string> =
        behaviour.retryAfter === undefined ? {} : { 'retry-after': String(behaviour.retryAfter) };
      return reply(behaviour.status, { message: `request failed${echoed}` }, headers);
    }
    const documents = body?.documents;
    if (typeof body?.model !== 'string' || typeof body.query !== 'string' || !Array.isArray(documents)) {
      return reply(400, { message: `invalid request: model, query and documents are required${echoed}` });
    }
    const query = words(body.query);
    const scored = documents.map((doc, index) => {
      const have = words(String(doc));
      const shared = [...query].filter((w) => have.has(w)).length;
      return { index, relevance_score: query.size ? shared / query.size : 0 };
    });
    scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
    const topN = typeof body.top_n === 'number' ? body.top_n : scored.length;
    reply(200, {
      id: crypto.randomUUID(),
      results: scored.slice(0, topN),
      meta: {
        api_version: { version: '2' },
        billed_units: { search_units: Math.ceil(documents.length / 100) },
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...behaviours) => void queue.push(...behaviours),
    reset() {
      queue.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
