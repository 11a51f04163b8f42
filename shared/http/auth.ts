import type { MiddlewareHandler } from 'hono';
import { type AuthenticateDeps, authenticate } from '../auth/authenticate.ts';
import { ForbiddenError } from '../domain/errors.ts';
import type { AppEnv } from './env.ts';
import { childLogger } from './request-logger.ts';

function bearerOf(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** Tenant routes: resolves the bearer credential into `c.var.auth`; the platform admin token is refused. */
export function tenantAuth(deps: AuthenticateDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticate(bearerOf(c.req.header('authorization')), deps);
    if (principal.kind !== 'tenant') {
      throw new ForbiddenError('The platform admin token manages tenants; use a tenant credential here.');
    }
    c.set('auth', principal.auth);
    const logger = c.get('logger');
    if (logger) c.set('logger', childLogger(logger, { tenantId: principal.auth.tenantId }));
    await next();
  };
}

/** Platform routes (/v1/tenants): only the platform admin token passes. */
export function platformAdminAuth(deps: AuthenticateDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticate(bearerOf(c.req.header('authorization')), deps);
    if (principal.kind !== 'platform-admin')
      throw new ForbiddenError('Only the platform admin token may do this.');
    await next();
  };
}
