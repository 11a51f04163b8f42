import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../ports/logger.ts';
import type { AppEnv } from './env.ts';

/** A logger that adds `keys` to every line (Powertools' persistent keys, for any Logger). */
export function childLogger(logger: Logger, keys: Record<string, unknown>): Logger {
  return {
    debug: (message, fields) => logger.debug(message, { ...keys, ...fields }),
    info: (message, fields) => logger.info(message, { ...keys, ...fields }),
    warn: (message, fields) => logger.warn(message, { ...keys, ...fields }),
    error: (message, fields) => logger.error(message, { ...keys, ...fields }),
  };
}

/**
 * Every line a request logs carries its request id; the auth middleware adds the tenant id and the answer
 * routes the message id. Never content or credentials: only ids.
 */
export function requestLogger(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('logger', childLogger(logger, { requestId: c.get('requestId') }));
    await next();
  };
}

/** The request's logger, or `fallback` outside a request-logged app. */
export const loggerOf = (c: { get(key: 'logger'): Logger | undefined }, fallback: Logger): Logger =>
  c.get('logger') ?? fallback;
