import { describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createChatStreamApp } from '#functions/chat-stream/app.ts';
import type { Database } from '#shared/ports/database.ts';
import type { VectorStore } from '#shared/ports/vector-store.ts';
import { testPlatform } from '#test/fixtures/platform.ts';

// Preflights are answered before any credential or database is read: a platform without a database is enough.
const platform = testPlatform(
  { db: {} as Database, superuser: {} as Database, vectorStore: {} as VectorStore, dispose: async () => {} },
  { env: { CORS_ORIGINS: 'https://app.example.com' } },
);
const preflight = (origin: string, path = '/v1/bots') => ({
  path,
  init: {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    },
  },
});

describe.each([
  ['api', createApiApp(platform)],
  ['chat-stream', createChatStreamApp(platform)],
] as const)('CORS of the %s app (no service-level CORS in front of it)', (_, app) => {
  it('when a configured front end preflights a route then the app answers its origin', async () => {
    const { path, init } = preflight(
      'https://app.example.com',
      '/v1/chats/00000000-0000-4000-8000-000000000000/messages',
    );
    const res = await app.request(path, init);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('when another origin preflights then no origin is allowed', async () => {
    const { path, init } = preflight('https://evil.example.com');
    const res = await app.request(path, init);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("when the deployment's front end preflights a website route then the deployment's list does not answer it", async () => {
    const { path, init } = preflight('https://app.example.com', '/v1/public/sessions');
    const res = await app.request(path, init);
    // No key named: the per-key CORS refuses, and the deployment's origins are not used on /v1/public.
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
