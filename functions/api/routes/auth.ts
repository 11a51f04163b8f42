import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '#shared/http/router.ts';
import { json, jsonBody, standardErrors, text } from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { login } from '#shared/usecases/login.ts';

const Login = z
  .object({ tenant: text(63).min(1), email: z.email(), password: text(200).min(1) })
  .openapi('Login');

export function authRoutes(p: Platform) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/token',
      summary: 'Exchange email + password + tenant slug for a short-lived access token (JWT)',
      request: { body: jsonBody(Login) },
      responses: {
        200: json(
          z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_at: z.string() }),
          'A signed access token',
        ),
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { accessToken, expiresAt } = await login(body, {
        db: p.db,
        jwtSigningKey: p.secrets.jwtSigningKey,
        accessTokenTtlSeconds: p.config.ACCESS_TOKEN_TTL_SECONDS,
      });
      return c.json(
        { access_token: accessToken, token_type: 'Bearer' as const, expires_at: expiresAt.toISOString() },
        200,
      );
    },
  );
  return app;
}
