import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { API_REFERENCE_SECURITY_HEADERS } from '#shared/http/security-headers.ts';
import { apiGatewayEvent, invoke } from '#test/fixtures/apigw-events.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { testPlatform } from '#test/fixtures/platform.ts';

const VENDORED = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');

/** Every absolute URL an HTML attribute names (src, href, action …), and any `//host` one. */
const urlsIn = (html: string) =>
  [...html.matchAll(/\b(?:src|href|action)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);

describe('the API reference at /docs is served from this origin', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createApiApp>;

  beforeAll(async () => {
    // /docs reads no data: one database kind is enough.
    database = await databaseKinds()[0]!.create();
    app = createApiApp(testPlatform(database));
  });
  afterAll(() => database.dispose());

  it('when /docs is requested then the page names only same-origin URLs and carries strict security headers', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\/|\/\/cdn|jsdelivr|unpkg|scalar\.com/);
    const urls = urlsIn(html);
    expect(urls).toContain('/openapi.json');
    expect(urls.filter((u) => u.endsWith('.js'))).toEqual([
      expect.stringMatching(/^\/docs\/scalar\.[0-9a-f]{16}\.js$/),
    ]);
    for (const url of urls) expect(url).toMatch(/^\/[^/]/);
    // No inline script: the page's only script is the file above.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([expect.stringMatching(/<script src="\/docs\//)]);

    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|unsafe-eval|script-src[^;]*unsafe-inline|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  it("when the page's script is requested then it is the vendored Scalar bundle, cacheable for a year, set up offline", async () => {
    const html = await (await app.request('/docs')).text();
    const scriptUrl = urlsIn(html).find((u) => u.endsWith('.js'))!;
    const res = await app.request(scriptUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-encoding')).toBeNull();
    const body = await res.text();
    const vendored = await readFile(VENDORED, 'utf8');
    expect(body.startsWith(vendored)).toBe(true);
    // The call that renders it turns off every feature that would reach another host.
    const init = body.slice(vendored.length);
    expect(init).toContain("Scalar.createApiReference('#app'");
    const config = JSON.parse(init.slice(init.indexOf('{'), init.lastIndexOf('}') + 1));
    expect(config).toMatchObject({
      url: '/openapi.json',
      withDefaultFonts: false,
      proxyUrl: '',
      hideClientButton: true,
      telemetry: false,
      agent: { disabled: true },
    });
  });

  it('when a stale or made-up script name is requested then 404, never another file', async () => {
    for (const path of ['/docs/scalar.0123456789abcdef.js', '/docs/scalar..js', '/docs/../package.json']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
    }
  });

  it('when API Gateway asks for the script with gzip then the Lambda answers base64 gzip under the 6 MB payload limit', async () => {
    const handler = handle(app);
    const pageRes = await invoke(
      handler,
      apiGatewayEvent('GET', '/docs', { headers: { accept: 'text/html' } }),
    );
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.headers['content-security-policy']).toBe(
      API_REFERENCE_SECURITY_HEADERS['content-security-policy'],
    );
    const scriptUrl = urlsIn(pageRes.body).find((u) => u.endsWith('.js'))!;
    const res = await invoke(
      handler,
      apiGatewayEvent('GET', scriptUrl, {
        headers: { accept: '*/*', 'accept-encoding': 'gzip, deflate, br' },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.isBase64Encoded).toBe(true);
    expect(res.body.length).toBeLessThan(6 * 1024 * 1024 - 64 * 1024);
    const script = gunzipSync(Buffer.from(res.body, 'base64')).toString('utf8');
    expect(script.startsWith(await readFile(VENDORED, 'utf8'))).toBe(true);
  });
});
