import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalServer } from '#cli/server/local-server.ts';
import { createApiApp } from '#functions/api/app.ts';
import { createChatStreamApp } from '#functions/chat-stream/app.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestChat,
  createTestTenant,
  expectProblem,
  openApiDocument,
  operations,
  type TestTenant,
} from '#test/fixtures/tenants.ts';

const MAX_JSON_BODY_BYTES = 65_536; // what testPlatform configures
const MAX_UPLOAD_BYTES = 200_000;
// Only the request that carries a file itself takes the upload limit; starting a direct upload is JSON.
const limitFor = (path: string) => (path === '/v1/sources' ? MAX_UPLOAD_BYTES : MAX_JSON_BODY_BYTES);

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

const doc = await openApiDocument();
/** Every documented route that takes a body, with a made-up id: the limit applies before routing or auth. */
const writeRoutes = operations(doc, (path, method) => Boolean(doc.paths[path]?.[method]?.requestBody)).map(
  (op) => ({
    method: op.method.toUpperCase(),
    url: op.path.replace('{id}', randomUUID()),
    limit: limitFor(op.path),
  }),
);
const CHAT_ROUTES = [
  '/v1/chats/{id}/messages',
  '/v1/chat/completions',
  '/v1/public/chats',
  '/v1/public/chats/{id}/messages',
];

/** A body of `bytes` bytes sent in chunks with no Content-Length, as a client streaming a huge upload does. */
function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(16_384).fill(0x78);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      controller.enqueue(chunk.subarray(0, n));
    },
  });
}

async function expectTooLarge(res: Response, limit: number) {
  const text = await res.text();
  expect(res.status, text).toBe(413);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(JSON.parse(text).detail).toContain(`limit of ${limit} bytes`);
}

// The limits are applied before any database work: PGlite is enough.
describe('request body limits', () => {
  let database: TestDatabase;
  let apps: Record<'api' | 'chat-stream' | 'local server', App>;
  let t: TestTenant;
  let chat: { id: string; botId: string };

  beforeAll(async () => {
    database = await databaseKinds()[0]!.create();
    const platform = testPlatform(database);
    apps = {
      api: createApiApp(platform),
      'chat-stream': createChatStreamApp(platform),
      'local server': createLocalServer(platform).app,
    };
    t = await createTestTenant(apps.api, 'limits');
    chat = await createTestChat(apps.api, t.apiToken);
  });
  afterAll(() => database.dispose());

  const routesOf = (name: string) =>
    name === 'chat-stream'
      ? writeRoutes.filter((r) =>
          CHAT_ROUTES.some((c) => new RegExp(`^${c.replace('{id}', '[^/]+')}$`).test(r.url)),
        )
      : writeRoutes;

  it.each(['api', 'chat-stream', 'local server'] as const)(
    'when any route of the %s gets a body one byte over its limit then 413 problem+json',
    async (name) => {
      const routes = routesOf(name);
      expect(routes.length).toBeGreaterThanOrEqual(name === 'chat-stream' ? 2 : 10);
      for (const route of routes) {
        const res = await apps[name].request(route.url, {
          method: route.method,
          headers: { authorization: `Bearer ${t.apiToken}`, 'content-type': 'application/json' },
          body: 'x'.repeat(route.limit + 1),
        });
        await expectTooLarge(res, route.limit);
      }
    },
  );

  it.each(['api', 'chat-stream', 'local server'] as const)(
    'when the %s gets a chat body streamed without Content-Length past the limit then 413 problem+json',
    async (name) => {
      for (const url of [`/v1/chats/${chat.id}/messages`, '/v1/chat/completions']) {
        const res = await apps[name].request(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.apiToken}`, 'content-type': 'application/json' },
          body: chunkedBody(4 * MAX_JSON_BODY_BYTES),
          duplex: 'half',
        } as RequestInit);
        await expectTooLarge(res, MAX_JSON_BODY_BYTES);
      }
    },
  );

  const completion = (messages: { role: string; content: string }[]) =>
    call(apps['chat-stream'], 'POST', '/v1/chat/completions', {
      token: t.apiToken,
      body: { model: chat.botId, messages },
    });

  it('when a completion request carries more than 100 messages then 400 naming messages', async () => {
    const messages = Array.from({ length: 101 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: 'hi',
    }));
    expectProblem(await completion(messages), 400, 'messages');
    expect((await completion(messages.slice(-99))).status).toBe(200);
  });

  it('when a completion message is longer than 20,000 characters then 400 naming content', async () => {
    expectProblem(await completion([{ role: 'user', content: 'a'.repeat(20_001) }]), 400, 'content');
    expect((await completion([{ role: 'user', content: 'a '.repeat(10_000) }])).status).toBe(200);
  });
});
