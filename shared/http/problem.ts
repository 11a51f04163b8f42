import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { unavailableOr } from '../adapters/transient-fault.ts';
import { errorLogFields } from '../domain/error-log.ts';
import { DomainError, ProviderError, QuotaExceededError, ServiceUnavailableError } from '../domain/errors.ts';
import type { Logger } from '../ports/logger.ts';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export const PROBLEM_BASE = 'https://minirag.dev/problems/';

const OPENAI_COMPATIBLE_PATH = /\/v1\/(chat\/completions|responses|models(\/[^/]*)?)$/;

export function problemResponse(
  c: Context,
  status: number,
  type: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const body: Problem = {
    type: PROBLEM_BASE + type,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: new URL(c.req.url).pathname,
    request_id: c.get('requestId' as never) as string | undefined,
    ...extra,
  };
  // OpenAI's SDKs read an error's message only from `{ error: { message, type, code } }`: on the
  // OpenAI-compatible routes the problem document carries that member too.
  if (body.instance && OPENAI_COMPATIBLE_PATH.test(body.instance)) {
    body.error = { message: detail, type: type.replaceAll('-', '_'), code: status };
  }
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
    ...headers,
  });
}

/** PostgreSQL error codes that mean "the caller sent something that conflicts", not "we broke". */
function databaseProblem(error: unknown): { status: number; type: string; detail: string } | undefined {
  const code = (error as { code?: unknown })?.code;
  if (code === '23505')
    return { status: 409, type: 'conflict', detail: 'A resource with these values already exists.' };
  if (code === '23503')
    return {
      status: 409,
      type: 'conflict',
      detail: 'A referenced resource does not exist (or was deleted).',
    };
  if (code === '22021' || code === '22P05') {
    return {
      status: 400,
      type: 'validation-error',
      detail: 'Text must be valid UTF-8 without NUL characters.',
    };
  }
  return undefined;
}

/**
 * The one place that turns an error into an HTTP response. An unavailable database or vector store is a
 * 503 with Retry-After; unknown errors become a bare 500. Every 5xx is logged at ERROR with its cause
 * chain and the request id the response carries, so "the request id identifies it in our logs" is true.
 */
export function errorToResponse(raw: unknown, c: Context, logger: Logger): Response {
  // A transient fault that reached here unwrapped (no adapter named the service) is still an outage.
  const error = raw instanceof HTTPException ? raw : unavailableOr(raw, 'service');
  if (error instanceof DomainError) {
    const headers: Record<string, string> = {};
    const retryAfter =
      error instanceof QuotaExceededError ||
      error instanceof ProviderError ||
      error instanceof ServiceUnavailableError
        ? error.retryAfterSeconds
        : undefined;
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="minirag"';
    if (error.status >= 500) {
      logger.error(error instanceof ServiceUnavailableError ? 'service unavailable' : 'provider failure', {
        requestId: requestIdOf(c),
        type: error.type,
        ...errorLogFields(error),
      });
    }
    return problemResponse(c, error.status, error.type, error.message, error.details ?? {}, headers);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const detail =
      status === 413
        ? 'The request body is too large.'
        : status === 415
          ? 'Unsupported content type: send application/json (POST /v1/sources also takes multipart/form-data).'
          : error.message || TITLES[status] || 'Request failed.';
    const type =
      status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'http-error';
    return problemResponse(c, status, type, detail);
  }
  const db = databaseProblem(error);
  if (db) return problemResponse(c, db.status, db.type, db.detail);
  logger.error('unhandled error', { requestId: requestIdOf(c), ...errorLogFields(error) });
  return problemResponse(
    c,
    500,
    'internal-error',
    'Something went wrong on our side. The request id identifies it in our logs.',
  );
}

const requestIdOf = (c: Context) => c.get('requestId' as never) as string | undefined;
