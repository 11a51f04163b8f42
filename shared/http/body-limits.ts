import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Config } from '../config/schema.ts';
import { problemResponse } from './problem.ts';

type Limits = Pick<Config, 'MAX_UPLOAD_BYTES' | 'MAX_JSON_BODY_BYTES'> &
  Partial<Pick<Config, 'MAX_INLINE_UPLOAD_BYTES'>>;

/** The largest file a request may carry itself (multipart or JSON content under /v1/sources). */
export const inlineUploadLimit = (config: Limits) =>
  Math.min(config.MAX_INLINE_UPLOAD_BYTES ?? config.MAX_UPLOAD_BYTES, config.MAX_UPLOAD_BYTES);

/**
 * The largest request body a path takes: a direct upload's bytes on the local server's upload route, a file
 * in the request under /v1/sources, JSON bodies everywhere else.
 */
export function bodyLimitFor(path: string, config: Limits): number {
  if (path.startsWith('/v1/uploads/')) return config.MAX_UPLOAD_BYTES;
  if (path === '/v1/sources' || path === '/v1/sources/') return inlineUploadLimit(config);
  return config.MAX_JSON_BODY_BYTES;
}

/**
 * Refuses a body over the path's limit with 413 problem+json before any of it is parsed or buffered past
 * the limit (a declared Content-Length is refused at once; a chunked body as soon as it crosses it).
 * Every app mounts it on '*': the API, the chat-stream function and the local server that hosts both.
 */
export function bodyLimits(config: Limits): MiddlewareHandler {
  return async (c, next) => {
    const limit = bodyLimitFor(c.req.path, config);
    return bodyLimit({
      maxSize: limit,
      onError: (c) =>
        problemResponse(
          c,
          413,
          'payload-too-large',
          `The request body is larger than the limit of ${limit} bytes.`,
        ),
    })(c, next);
  };
}
