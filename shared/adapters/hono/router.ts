import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';
import { problemResponse } from './problem.ts';

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** Field errors a person can act on: `body.scopes[1]: Invalid option: expected one of …`. */
export function describeIssues(
  issues: readonly ZodIssueLike[],
  target: string,
): { field: string; message: string }[] {
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return { field: `${target}${path}`, message: issue.message };
  });
}

/** Every sub-app is made here so every validation failure becomes the same 400 problem document. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = describeIssues(result.error.issues, result.target === 'json' ? 'body' : result.target);
      const summary = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      return problemResponse(c, 400, 'validation-error', `The request is not valid. ${summary}`, { errors });
    },
  });
}
