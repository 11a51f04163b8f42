import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../domain/errors.ts';
import type { Database } from '../ports/database.ts';
import { resolvePublishableKey } from '../usecases/visitors.ts';
import type { AppEnv } from './env.ts';
import { problemResponse } from './problem.ts';

const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS = 'authorization, content-type';

/**
 * CORS for the website routes, per publishable key: a response names the caller's origin only once that
 * origin has been checked against the key's allowed origins. Browsers send no Authorization header on a
 * preflight, so the widget also names its key in the URL (`?key=mrag_pk_…`, not a secret): the preflight
 * is answered for that key's origins only, and refused (no Allow-Origin) for a revoked key or another
 * origin. The real request is checked again, whatever its preflight said.
 */
export function publicCors(deps: { db: Database }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS') {
      try {
        await resolvePublishableKey(c.req.query('key'), origin, deps);
      } catch (error) {
        if (error instanceof DomainError) {
          return problemResponse(c, error.status, error.type, error.message, {}, { vary: 'Origin' });
        }
        throw error;
      }
      return c.body(null, 204, {
        'access-control-allow-origin': origin ?? '',
        'access-control-allow-methods': ALLOW_METHODS,
        'access-control-allow-headers': ALLOW_HEADERS,
        'access-control-max-age': '600',
        vary: 'Origin',
      });
    }
    await next();
    c.res.headers.append('vary', 'Origin');
    const allowed = c.get('publicOrigin');
    if (allowed) {
      c.res.headers.set('access-control-allow-origin', allowed);
      // The problem documents' Retry-After must be readable by the widget.
      c.res.headers.set('access-control-expose-headers', 'retry-after');
    }
  };
}
