import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { ANY_ORIGIN_WARNING } from '#shared/usecases/publishable-keys.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant, expectProblem, mintToken } from '#test/fixtures/tenants.ts';
import {
  createPublishableKey,
  SITE,
  startSession,
  visitorChat,
  visitorToken,
} from '#test/fixtures/visitors.ts';

const QUESTION = 'Which mission demonstrated solar sailing?';

describe.each(databaseKinds())('publishable keys and website visitors on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let botId: string;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
    botId = await h.bot('openai');
  }, 180_000);
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const ask = (chatId: string, token: string, origin = SITE, content = QUESTION) =>
    h.stream.request(`/v1/public/chats/${chatId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin },
      body: JSON.stringify({ content, stream: true }),
    });

  it('when a key is created then the full key is returned once, stored hashed, and listed without it', async () => {
    const created = await createPublishableKey(h.api, h.tenant.apiToken, botId, {
      name: 'Help centre',
      allowed_origins: ['https://Help.Example.com:443/', 'http://localhost:8080'],
      rate_limit: { per_visitor_per_minute: 5, per_key_per_minute: 100 },
      monthly_token_budget: 50_000,
    });
    expect(created.key).toMatch(/^mrag_pk_[0-9A-Za-z]{43}$/);
    expect(created.body).toMatchObject({
      bot_id: botId,
      name: 'Help centre',
      allowed_origins: [SITE, 'http://localhost:8080'],
      rate_limit: { per_visitor_per_minute: 5, per_key_per_minute: 100 },
      monthly_token_budget: 50_000,
      revoked_at: null,
      warnings: [],
    });
    const [row] = await h.superuser.withSystem((tx) =>
      tx.query<{ key_hash: string; row: string }>(
        sql`select key_hash, p::text as row from publishable_keys p where id = ${created.id}`,
      ),
    );
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.row).not.toContain(created.key);

    const listed = await call(h.api, 'GET', `/v1/bots/${botId}/publishable-keys`, {
      token: h.tenant.apiToken,
    });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((k: { id: string }) => k.id)).toContain(created.id);
    expect(listed.text).not.toContain(created.key);
  });

  it.each([
    ['a path', 'https://help.example.com/faq'],
    ['a wildcard host', 'https://*.example.com'],
    ['no scheme', 'help.example.com'],
    ['another scheme', 'ftp://help.example.com'],
    ['credentials', 'https://user@help.example.com'],
    ['the null origin', 'null'],
  ])('when allowed_origins holds %s then 400 and no key is made', async (_, origin) => {
    const res = await call(h.api, 'POST', `/v1/bots/${botId}/publishable-keys`, {
      token: h.tenant.apiToken,
      body: { allowed_origins: [origin] },
    });
    expectProblem(res, 400, 'allowed_origins[0]');
  });

  it("when '*' is given alone then the key allows any origin and the response warns; beside others it is refused", async () => {
    const any = await createPublishableKey(h.api, h.tenant.apiToken, botId, { allowed_origins: ['*'] });
    expect(any.body.warnings).toEqual([ANY_ORIGIN_WARNING]);
    expect((await startSession(h.stream, any.key, 'https://anywhere.example.org')).status).toBe(201);
    const mixed = await call(h.api, 'POST', `/v1/bots/${botId}/publishable-keys`, {
      token: h.tenant.apiToken,
      body: { allowed_origins: ['*', SITE] },
    });
    expectProblem(mixed, 400, "'*'");
  });

  it('when a member token without bots:write creates a key then 403; with read it may list', async () => {
    const read = await mintToken(h.api, h.tenant.apiToken, { scopes: ['read', 'chat'] });
    const res = await call(h.api, 'POST', `/v1/bots/${botId}/publishable-keys`, {
      token: read.token,
      body: { allowed_origins: [SITE] },
    });
    expectProblem(res, 403);
    const listed = await call(h.api, 'GET', `/v1/bots/${botId}/publishable-keys`, { token: read.token });
    expect(listed.status).toBe(200);
  });

  it('when a visitor session is started from an allowed origin then the token chats with the bot and the answer streams with citations', async () => {
    const { key, id: keyId } = await createPublishableKey(h.api, h.tenant.apiToken, botId);
    const session = await startSession(h.stream, key);
    expect(session.status, session.text).toBe(201);
    expect(session.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(session.body.bot).toMatchObject({ id: botId });
    const expiresIn = Date.parse(session.body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_500_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000);

    const chatId = await visitorChat(h.stream, session.body.token);
    const res = await ask(chatId, session.body.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['meta', 'citations', 'delta', 'done']),
    );
    expect(events.map((e) => e.event)).not.toContain('usage');
    expect(dataOf(events, 'citations')[0].citations[0]).toMatchObject({
      title: 'Propulsion notes',
      url: null,
    });

    // The visitor's own chat reads back; the tenant sees it with the visitor marker and the usage by key.
    const own = await call(h.stream, 'GET', `/v1/public/chats/${chatId}`, {
      token: session.body.token,
      headers: { origin: SITE },
    });
    expect(own.status, own.text).toBe(200);
    expect(own.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    const chats = await call(h.api, 'GET', `/v1/chats?bot_id=${botId}`, { token: h.tenant.apiToken });
    expect(chats.body.data.find((c: { id: string }) => c.id === chatId).visitor).toEqual({
      visitor_id: session.body.visitor_id,
      publishable_key_id: keyId,
    });
    const usage = await call(h.api, 'GET', '/v1/usage?group_by=publishable_key', {
      token: h.tenant.apiToken,
    });
    expect(usage.status, usage.text).toBe(200);
    const byKey = usage.body.data.filter((r: { key: string }) => r.key === keyId);
    expect(byKey.map((r: { kind: string }) => r.kind).sort()).toEqual(['chat', 'embed']);
  });

  it('when the Origin is missing, spoofed or not allowed then the session is refused without CORS headers', async () => {
    const { key } = await createPublishableKey(h.api, h.tenant.apiToken, botId);
    for (const origin of [
      null,
      'https://evil.example.com',
      'http://help.example.com',
      'https://help.example.com:8443',
    ]) {
      const res = await startSession(h.stream, key, origin);
      expectProblem(res, 403, 'allowed origins');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    // No key at all, whatever the Origin claims.
    const keyless = await startSession(h.stream, '', SITE);
    expectProblem(keyless, 401);
  });

  it("when a browser preflights a public route then only the key's allowed origins are answered", async () => {
    const { key } = await createPublishableKey(h.api, h.tenant.apiToken, botId);
    const preflight = (origin: string, k = key) =>
      h.stream.request(`/v1/public/sessions?key=${k}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(SITE);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await preflight('https://evil.example.com');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const keyless = await h.stream.request('/v1/public/chats', {
      method: 'OPTIONS',
      headers: { origin: SITE },
    });
    expect(keyless.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when a key is revoked then its sessions and visitor tokens stop on the very next request', async () => {
    const { key, id } = await createPublishableKey(h.api, h.tenant.apiToken, botId);
    const token = await visitorToken(h.stream, key);
    const chatId = await visitorChat(h.stream, token);
    const revoked = await call(h.api, 'DELETE', `/v1/publishable-keys/${id}`, { token: h.tenant.apiToken });
    expect(revoked.status, revoked.text).toBe(204);
    const before = h.openai.requests.length;
    expectProblem(await startSession(h.stream, key), 401);
    const res = await ask(chatId, token);
    expect(res.status).toBe(401);
    expect(h.openai.requests.length).toBe(before);
    const listed = await call(h.api, 'GET', `/v1/bots/${botId}/publishable-keys?limit=100`, {
      token: h.tenant.apiToken,
    });
    expect(listed.body.data.find((k: { id: string }) => k.id === id).revoked_at).not.toBeNull();
  });

  it('when /widget.js is fetched then it is JavaScript cached for a day, and a matching ETag answers 304', async () => {
    const res = await h.api.request('/widget.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(await res.text()).toContain('data-minirag-widget');
    const again = await h.api.request('/widget.js', {
      headers: { 'if-none-match': res.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });

  it("when another tenant revokes or lists with this tenant's ids then 404 and nothing changes", async () => {
    const other = await createTestTenant(h.api, 'other');
    const { id } = await createPublishableKey(h.api, h.tenant.apiToken, botId);
    expectProblem(await call(h.api, 'DELETE', `/v1/publishable-keys/${id}`, { token: other.apiToken }), 404);
    expectProblem(
      await call(h.api, 'GET', `/v1/bots/${botId}/publishable-keys`, { token: other.apiToken }),
      404,
    );
    const res = await call(h.api, 'POST', `/v1/bots/${botId}/publishable-keys`, {
      token: other.apiToken,
      body: { allowed_origins: [SITE] },
    });
    expectProblem(res, 404);
  });
});
