import { Hono } from 'hono';
import { API_REFERENCE_SECURITY_HEADERS } from '#shared/http/security-headers.ts';
import { apiReferenceScript } from '../api-reference-script.ts';

const SCRIPT_PREFIX = 'scalar.';

const page = (scriptUrl: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>MiniRAG API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <noscript>The API reference needs JavaScript. The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="${scriptUrl}"></script>
  </body>
</html>
`;

/**
 * The API reference at /docs: an HTML page whose only script is the vendored Scalar bundle, served from this
 * origin at /docs/scalar.<content hash>.js. Not part of the OpenAPI document (it is not an API route).
 */
export function apiReferenceRoutes() {
  const app = new Hono();

  app.get('/', async (c) => {
    const script = await apiReferenceScript();
    return c.html(page(`/docs/${SCRIPT_PREFIX}${script.hash}.js`), 200, {
      // The page names the current script's hash, so it must be revalidated; the script need not be.
      'cache-control': 'no-cache',
      ...API_REFERENCE_SECURITY_HEADERS,
    });
  });

  app.get('/:file{scalar\\.[0-9a-f]+\\.js}', async (c) => {
    const script = await apiReferenceScript();
    if (c.req.param('file') !== `${SCRIPT_PREFIX}${script.hash}.js`) return c.notFound();
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      vary: 'accept-encoding',
      ...API_REFERENCE_SECURITY_HEADERS,
    };
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      return c.body(await script.gzipped(), 200, { ...headers, 'content-encoding': 'gzip' });
    }
    return c.body(script.body, 200, headers);
  });

  return app;
}
