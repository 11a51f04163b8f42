import type { Context } from 'hono';
import { WIDGET_SCRIPT, WIDGET_SCRIPT_HASH } from '../widget-script.generated.ts';

/**
 * Tenants paste one unversioned URL into their pages, so the script is cached for a day (browsers and any
 * CDN in front) and served stale for a week while it revalidates; the ETag makes a revalidation a 304.
 * A new release reaches every site within a day without anyone changing their snippet.
 */
export const WIDGET_CACHE_CONTROL = 'public, max-age=86400, stale-while-revalidate=604800';

const ETAG = `"${WIDGET_SCRIPT_HASH}"`;

/** GET /widget.js: the embeddable chat widget (built from web/widget by `npm run build:widget`). */
export function serveWidget(c: Context): Response {
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': WIDGET_CACHE_CONTROL,
    etag: ETAG,
    'x-content-type-options': 'nosniff',
    // Pages with Cross-Origin-Embedder-Policy may load it too.
    'cross-origin-resource-policy': 'cross-origin',
  };
  const match = c.req.header('if-none-match');
  if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === ETAG)) {
    return c.body(null, 304, headers);
  }
  return c.body(WIDGET_SCRIPT, 200, headers);
}
