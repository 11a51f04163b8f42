import { z } from '@hono/zod-openapi';
import type { Scope } from '../domain/auth-context.ts';

/** Text fields: PostgreSQL text cannot hold NUL, so refuse it up front with a readable message. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const name = text(200).min(1);

/** How deep a JSON value given as metadata may nest (deeper values are refused, not stored). */
export const MAX_JSON_DEPTH = 32;

const LONE_SURROGATE_OR_NUL = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;

/**
 * Why a JSON value cannot be stored as jsonb, or undefined when it can: nested deeper than MAX_JSON_DEPTH
 * (walked without recursion, so no depth can overflow the stack here) or holding a string with a lone
 * surrogate or a NUL, which PostgreSQL's json refuses.
 */
export function jsonValueProblem(value: unknown): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const v = item.value;
    if (typeof v === 'string') {
      if (LONE_SURROGATE_OR_NUL.test(v)) return 'must not contain NUL characters or lone surrogates';
    } else if (v !== null && typeof v === 'object') {
      if (item.depth >= MAX_JSON_DEPTH) return `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
      for (const [key, child] of Object.entries(v)) {
        if (LONE_SURROGATE_OR_NUL.test(key)) {
          return 'must not contain NUL characters or lone surrogates';
        }
        stack.push({ value: child, depth: item.depth + 1 });
      }
    }
  }
  return undefined;
}

/** A metadata object: any JSON object PostgreSQL can store. */
export const jsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = jsonValueProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const IdParam = z.object({
  id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'id', in: 'path' }, example: '0b8f…' }),
});

export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z
    .string()
    .max(500)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' } }),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error responses every authenticated route can give. */
export const standardErrors = {
  400: problem('The request is not valid'),
  401: problem('Missing, invalid, expired or revoked credential'),
  403: problem('The credential lacks the role or scope, or the tenant is suspended'),
  404: problem('Not found (also for another tenant’s resources)'),
  429: problem('Rate limit or quota exceeded'),
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * Who may call a route, declared as its OpenAPI security requirement (a role name on the bearer scheme):
 * a scope the tenant credential must hold (`admin` implies the others; a user session may also stand in
 * for `admin` on self-service writes), `tenant` for any tenant credential, or `platform-admin`; on the
 * website routes (/v1/public) a `publishable-key` or a `visitor` token. The scope matrix test reads these
 * from /openapi.json, so every route must declare one.
 */
export type RouteRequirement = Scope | 'tenant' | 'platform-admin' | 'publishable-key' | 'visitor';
export const requires = (requirement: RouteRequirement) => [{ bearer: [requirement] }];
