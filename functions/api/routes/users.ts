import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '#shared/domain/auth-context.ts';
import type { User } from '#shared/domain/user.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import {
  IdParam,
  iso,
  json,
  jsonBody,
  listOf,
  PageQuery,
  security,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import { changeUser, createUser, listTenantUsers, removeUser } from '#shared/usecases/users.ts';

const Role = z.enum(ROLES);
const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: Role,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('User');

const userJson = (u: User) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  created_at: iso(u.createdAt)!,
  updated_at: iso(u.updatedAt)!,
});

const password = text(200).min(10, 'must be at least 10 characters');
const CreateUser = z
  .object({
    email: z.email(),
    name: text(200).optional(),
    role: Role.default('member'),
    password: password.optional(),
  })
  .openapi('CreateUser');
const UpdateUser = z
  .object({ name: text(200).nullable().optional(), role: Role.optional(), password: password.optional() })
  .openapi('UpdateUser');

export function userRoutes(p: Platform) {
  const app = createRouter();
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Create a user (owner/admin)',
      security,
      request: { body: jsonBody(CreateUser) },
      responses: { 201: json(UserSchema, 'The user'), 409: standardErrors[400], ...standardErrors },
    }),
    async (c) => c.json(userJson(await createUser(c.get('auth'), c.req.valid('json'), p)), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's users",
      security,
      request: { query: PageQuery },
      responses: { 200: json(listOf(UserSchema), 'A page of users'), ...standardErrors },
    }),
    async (c) => {
      const page = await listTenantUsers(c.get('auth'), c.req.valid('query'), p);
      return c.json({ data: page.data.map(userJson), next_cursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      summary: 'Change a user (admins; anyone may change their own name and password)',
      security,
      request: { params: IdParam, body: jsonBody(UpdateUser) },
      responses: { 200: json(UserSchema, 'The user'), 409: standardErrors[400], ...standardErrors },
    }),
    async (c) =>
      c.json(userJson(await changeUser(c.get('auth'), c.req.valid('param').id, c.req.valid('json'), p)), 200),
  );

  deleteByIdRoute(app, 'Remove a user (owner/admin)', (auth, id) => removeUser(auth, id, p));
  return app;
}
