import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeEmbedding } from '#test/fakes/openai-server.ts';

export interface SlowEmbeddings {
  /** Base URL including /v1, for EMBEDDING_BASE_URL. */
  readonly url: string;
  readonly env: Record<string, string>;
  requests: number;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible `POST /v1/embeddings` that takes `delayMs` per call: it makes ingestion slow
 * enough (and deterministic enough) for a test to kill the server while documents are in flight.
 */
export async function startSlowEmbeddings(delayMs: number, dimensions = 64): Promise<SlowEmbeddings> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      state.requests++;
      const input = (JSON.parse(body || '{}') as { input?: string | string[] }).input ?? [];
      const texts = Array.isArray(input) ? input : [input];
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: 'slow-embed',
            data: texts.map((t, index) => ({
              object: 'embedding',
              index,
              embedding: fakeEmbedding(t, dimensions),
            })),
            usage: { prompt_tokens: texts.length, total_tokens: texts.length },
          }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return {
    url,
    env: {
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_BASE_URL: url,
      EMBEDDING_MODEL: 'slow-embed',
      EMBEDDING_DIMENSIONS: String(dimensions),
      OPENAI_API_KEY: 'sk-test-slow-embeddings',
    },
    get requests() {
      return state.requests;
    },
    set requests(n: number) {
      state.requests = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
