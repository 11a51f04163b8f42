import { createRoute, z } from '@hono/zod-openapi';
import type { ApiToken } from '#shared/domain/api-token.ts';
import { SCOPES } from '#shared/domain/auth-context.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import {
  iso,
  json,
  jsonBody,
  listOf,
  name,
  PageQuery,
  security,
  standardErrors,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { listTenantApiTokens, mintApiToken, revokeTenantApiToken } from '#shared/usecases/api-tokens.ts';

const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    service_account: z.boolean(),
    user_id: z.string().nullable(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('ApiToken');

const tokenJson = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  service_account: t.isServiceAccount,
  user_id: t.userId,
  expires_at: iso(t.expiresAt),
  revoked_at: iso(t.revokedAt),
  last_used_at: iso(t.lastUsedAt),
  created_at: iso(t.createdAt)!,
});

const CreateApiToken = z
  .object({
    name,
    scopes: z.array(z.enum(SCOPES)).min(1, 'give at least one scope'),
    expires_at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    service_account: z.boolean().default(false),
  })
  .openapi('CreateApiToken');

export function apiTokenRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Mint an API token (the secret is returned once)',
      security,
      request: { body: jsonBody(CreateApiToken) },
      responses: {
        201: json(ApiTokenSchema.extend({ token: z.string() }), 'The token; `token` is shown only here'),
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { token, secret } = await mintApiToken(
        c.get('auth'),
        {
          name: body.name,
          scopes: body.scopes,
          expiresAt: body.expires_at ? new Date(body.expires_at) : undefined,
          serviceAccount: body.service_account,
        },
        p,
      );
      return c.json({ ...tokenJson(token), token: secret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's API tokens (never their secrets)",
      security,
      request: { query: PageQuery },
      responses: { 200: json(listOf(ApiTokenSchema), 'A page of tokens'), ...standardErrors },
    }),
    async (c) => {
      const page = await listTenantApiTokens(c.get('auth'), c.req.valid('query'), p);
      return c.json({ data: page.data.map(tokenJson), next_cursor: page.nextCursor }, 200);
    },
  );

  deleteByIdRoute(app, 'Revoke an API token (effective immediately)', (auth, id) =>
    revokeTenantApiToken(auth, id, p),
  );
  return app;
}
