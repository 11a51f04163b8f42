import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '#shared/domain/auth-context.ts';
import type { Tenant } from '#shared/domain/tenant.ts';
import { TENANT_STATUSES } from '#shared/domain/tenant.ts';
import { platformAdminAuth, tenantAuth } from '#shared/http/auth.ts';
import { createRouter } from '#shared/http/router.ts';
import {
  IdParam,
  iso,
  json,
  jsonBody,
  listOf,
  name,
  PageQuery,
  security,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { findTenantById } from '#shared/repositories/tenants.ts';
import { findUser } from '#shared/repositories/users.ts';
import { changeTenant, createTenant, getTenant, listAllTenants } from '#shared/usecases/tenants.ts';

const TenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(TENANT_STATUSES),
    quotas: z.object({
      monthly_token_budget: z.number().nullable(),
      requests_per_minute: z.number().nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Tenant');

export const tenantJson = (t: Tenant) => ({
  id: t.id,
  slug: t.slug,
  name: t.name,
  status: t.status,
  quotas: { monthly_token_budget: t.monthlyTokenBudget, requests_per_minute: t.requestsPerMinute },
  created_at: iso(t.createdAt)!,
  updated_at: iso(t.updatedAt)!,
});

const IdentitySchema = z.object({
  user_id: z.string().nullable(),
  email: z.string().nullable(),
  token_id: z.string().nullable(),
  role: z.enum(ROLES),
  scopes: z.array(z.string()),
  is_service_account: z.boolean(),
});

const Quotas = z.object({
  // The column is a PostgreSQL integer: a larger budget would fail in the database as a 500.
  monthly_token_budget: z.number().int().min(0).max(2_147_483_647).nullable().optional(),
  requests_per_minute: z.number().int().min(1).max(100_000).nullable().optional(),
});

const CreateTenant = z
  .object({
    name,
    slug: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or dashes')
      .optional(),
    owner_email: z.email(),
    owner_password: text(200).min(10, 'must be at least 10 characters').optional(),
    quotas: Quotas.optional(),
  })
  .openapi('CreateTenant');

const UpdateTenant = z
  .object({
    name: name.optional(),
    status: z.enum(TENANT_STATUSES).optional(),
    quotas: Quotas.optional(),
  })
  .openapi('UpdateTenant');

const slugify = (s: string) =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'tenant';

export function tenantRoutes(p: Platform) {
  const authDeps = { db: p.db, ...p.secrets };
  const app = createRouter();

  // GET /v1/tenants/me is for tenant credentials; everything else here is the platform admin's.
  app.use('/me', tenantAuth(authDeps));
  app.use('/', platformAdminAuth(authDeps));
  app.use('/:id{[^/]+}', async (c, next) =>
    c.req.param('id') === 'me' ? next() : platformAdminAuth(authDeps)(c, next),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      summary: "The caller's tenant and identity",
      security,
      responses: {
        200: json(z.object({ tenant: TenantSchema, identity: IdentitySchema }), 'The tenant and caller'),
        ...standardErrors,
      },
    }),
    async (c) => {
      const auth = c.get('auth');
      const { tenant, user } = await p.db.withTenant(auth.tenantId, async (tx) => ({
        tenant: await findTenantById(tx, auth.tenantId),
        user: auth.userId ? await findUser(tx, auth.tenantId, auth.userId) : null,
      }));
      return c.json(
        {
          tenant: tenantJson(tenant!),
          identity: {
            user_id: auth.userId ?? null,
            email: user?.email ?? null,
            token_id: auth.tokenId ?? null,
            role: auth.role,
            scopes: [...auth.scopes],
            is_service_account: auth.isServiceAccount,
          },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Create a tenant with its owner and a first API token (platform admin)',
      security,
      request: { body: jsonBody(CreateTenant) },
      responses: {
        201: json(
          z.object({
            tenant: TenantSchema,
            owner: z.object({ id: z.string(), email: z.string() }),
            api_token: z.object({ id: z.string(), token: z.string() }),
          }),
          'Created. The API token is shown only in this response.',
        ),
        409: standardErrors[400],
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await createTenant(p.db, {
        name: body.name,
        slug: body.slug ?? slugify(body.name),
        ownerEmail: body.owner_email,
        ownerPassword: body.owner_password,
        monthlyTokenBudget: body.quotas?.monthly_token_budget,
        requestsPerMinute: body.quotas?.requests_per_minute,
      });
      return c.json(
        {
          tenant: tenantJson(created.tenant),
          owner: { id: created.owner.id, email: created.owner.email },
          api_token: { id: created.apiToken.id, token: created.apiToken.secret },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: 'List tenants (platform admin)',
      security,
      request: { query: PageQuery },
      responses: { 200: json(listOf(TenantSchema), 'A page of tenants'), ...standardErrors },
    }),
    async (c) => {
      const page = await listAllTenants(p.db, c.req.valid('query'));
      return c.json({ data: page.data.map(tenantJson), next_cursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      summary: 'Get a tenant (platform admin)',
      security,
      request: { params: IdParam },
      responses: { 200: json(TenantSchema, 'The tenant'), ...standardErrors },
    }),
    async (c) => c.json(tenantJson(await getTenant(p.db, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      summary: 'Rename, suspend/reactivate or change the quotas of a tenant (platform admin)',
      security,
      request: { params: IdParam, body: jsonBody(UpdateTenant) },
      responses: { 200: json(TenantSchema, 'The updated tenant'), ...standardErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const tenant = await changeTenant(p.db, c.req.valid('param').id, {
        name: body.name,
        status: body.status,
        monthlyTokenBudget: body.quotas?.monthly_token_budget,
        requestsPerMinute: body.quotas?.requests_per_minute,
      });
      return c.json(tenantJson(tenant), 200);
    },
  );

  return app;
}
