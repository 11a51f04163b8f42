import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AuthContext } from '../domain/auth-context.ts';
import type { AppEnv } from './env.ts';
import { problemResponse } from './problem.ts';
import { IdParam, security, standardErrors } from './schemas.ts';

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );

/**
 * Field errors a person can act on: `body.scopes[1]: Invalid option: expected one of …`. A field absent from
 * `input` reads "is required" rather than a complaint about its type or value.
 */
export function describeIssues(
  issues: readonly ZodIssueLike[],
  target: string,
  input?: unknown,
): { field: string; message: string }[] {
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return { field: `${target}${path}`, message: missing ? 'is required' : issue.message };
  });
}

/** Every sub-app is made here so every validation failure becomes the same 400 problem document. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const target = result.target === 'json' ? 'body' : result.target;
      // The validator hands the hook the input as `data` (@hono/zod-validator); the type leaves it out.
      const errors = describeIssues(result.error.issues, target, (result as { data?: unknown }).data);
      const summary = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      return problemResponse(c, 400, 'validation-error', `The request is not valid. ${summary}`, { errors });
    },
  });
}

/**
 * `DELETE /{id}` → 204: the same route for every resource, so it is declared once. `remove` is the use
 * case; it throws NotFoundError (404) for a missing id and for another tenant's.
 */
export function deleteByIdRoute(
  app: OpenAPIHono<AppEnv>,
  summary: string,
  remove: (auth: AuthContext, id: string) => Promise<void>,
): void {
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      summary,
      security,
      request: { params: IdParam },
      responses: {
        204: { description: 'Done' },
        409: { ...standardErrors[400], description: 'Conflict (e.g. the last owner of a tenant)' },
        ...standardErrors,
      },
    }),
    async (c) => {
      await remove(c.get('auth'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
}
