import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Paths whose CORS is not the deployment's: the website routes answer per publishable key (publicCors). */
const isWebsitePath = (path: string) => path.startsWith('/v1/public/') || path === '/widget.js';

/**
 * CORS for the deployment's own front ends (CORS_ORIGINS: the playground on another host, an admin app),
 * answered by the app rather than by API Gateway or the function URL. A service-level CORS configuration
 * answers every preflight itself and replaces the app's CORS headers with one static list, which would
 * make per-key origins on /v1/public impossible; so neither is configured and both apps mount this.
 */
export function deploymentCors(origins: readonly string[]): MiddlewareHandler {
  const handler = cors({
    origin: [...origins],
    allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    exposeHeaders: ['location', 'retry-after'],
    maxAge: 3600,
  });
  return (c, next) => (origins.length === 0 || isWebsitePath(c.req.path) ? next() : handler(c, next));
}
