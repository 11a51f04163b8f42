/**
 * The named errors of the domain. Use cases throw these; one error mapper per app turns them
 * into RFC 9457 problem+json. Messages are written for the person reading the response and never
 * contain credentials or document content.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  /** Extra members for the problem document (e.g. field errors). */
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly type = 'validation-error';
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly type = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly type = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly type = 'not-found';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} not found`, options);
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly type = 'conflict';
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly type = 'payload-too-large';
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly type = 'unsupported-media-type';
}

/** Quota, budget or rate limit exhausted. `retryAfterSeconds` becomes the Retry-After header. */
export class QuotaExceededError extends DomainError {
  readonly status = 429;
  readonly type = 'quota-exceeded';
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * An upstream provider (LLM, embeddings, KMS) refused or failed. `status` says what the caller can do
 * about it: 400 for a bad configured credential, 429 for the provider's rate limit, 502 otherwise.
 */
export class ProviderError extends DomainError {
  readonly type = 'provider-error';
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    message: string,
    options?: {
      status?: number;
      retryAfterSeconds?: number;
      cause?: unknown;
      details?: Record<string, unknown>;
    },
  ) {
    super(message, options);
    this.status = options?.status ?? 502;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * A service MiniRAG depends on (the database, the vector store, the queue) is down, overloaded or
 * misconfigured: nothing the caller sent is at fault. The API answers 503; ingestion keeps the document's
 * attempts and tries again later. `retryable` is false for a misconfiguration (pgvector missing, a wrong
 * vector size) that only an operator can fix; then no Retry-After is promised.
 */
export class ServiceUnavailableError extends DomainError {
  readonly status = 503;
  readonly type = 'service-unavailable';
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    message: string,
    options?: { retryable?: boolean; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
    this.retryAfterSeconds = this.retryable ? (options?.retryAfterSeconds ?? 5) : undefined;
  }
}

/** The ServiceUnavailableError in `error` or its chain of causes (a use case may wrap it). */
export function serviceUnavailableIn(error: unknown): ServiceUnavailableError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ServiceUnavailableError) return e;
  }
  return undefined;
}
