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
 * A document exceeds one of the extraction limits (expanded size, compression ratio, pages, nesting,
 * extracted characters, time or memory). It is a fact about the document, so another attempt would only
 * spend the same resources again: the source is FAILED at once with this message.
 */
export class DocumentLimitError extends DomainError {
  readonly status = 422;
  readonly type = 'document-limit-exceeded';
  readonly retryable = false;
}
