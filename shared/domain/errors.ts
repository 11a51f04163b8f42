/**
 * The named errors of the domain, the one error hierarchy of the code base. Use cases throw these; one
 * error mapper per app turns them into RFC 9457 problem+json. Messages are written for the person
 * reading the response and never contain credentials or document content.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  /** Extra members for the problem document (e.g. field errors). */
  readonly details: Record<string, unknown> | undefined;
  /**
   * Whether the same request may succeed later (a rate limit, an outage). Callers that retry (the ingest
   * queue, the embedding batcher, the chat stream) ask the error instead of reading its status.
   */
  readonly retryable: boolean;

  constructor(
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details;
    this.retryable = options?.retryable ?? false;
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
    super(message, { ...options, retryable: true });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * The source itself cannot be ingested (no text, unreadable, a duplicate of another source): another
 * attempt fails the same way, so the source ends FAILED with this message.
 */
export class UnusableSourceError extends DomainError {
  readonly status = 422;
  readonly type = 'unusable-source';
}

export interface ProviderErrorOptions {
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  /** Defaults to true for a rate limit (429) or a failure on the provider's side (5xx). */
  readonly retryable?: boolean;
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

/**
 * An upstream provider (LLM, embeddings, vector store, key service, secrets) refused or failed. `status`
 * says what the caller can do about it: 400 for a bad configured credential, 429 for the provider's rate
 * limit, 502 otherwise; `retryable` whether another attempt may succeed.
 */
export class ProviderError extends DomainError {
  readonly type = 'provider-error';
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options?: ProviderErrorOptions) {
    const status = options?.status ?? 502;
    super(message, { ...options, retryable: options?.retryable ?? (status === 429 || status >= 500) });
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * A bot's stored credentials could not be opened: the envelope is unreadable, was altered, or belongs to
 * another tenant or bot. Retrying cannot help; the tenant admin sets the credentials again.
 */
export class CredentialError extends ProviderError {
  constructor(message: string, options?: Omit<ProviderErrorOptions, 'retryable'>) {
    super(message, { status: 500, ...options, retryable: false });
  }
}

/** Thrown by ingestion for a failure that another attempt may fix; the queue delivers the message again. */
export class IngestRetryableError extends Error {}

/**
 * A service MiniRAG depends on (the database, the vector store, the queue) is down, overloaded, resuming
 * from a pause or misconfigured: the request was not carried out and nothing the caller sent is at fault.
 * Maps to 503; ingestion keeps the document's attempts and tries again later. `retryable` is false for a
 * misconfiguration (pgvector missing, a wrong vector size) that only an operator can fix: then no
 * Retry-After is promised; otherwise `retryAfterSeconds` (default 5) becomes the Retry-After header.
 */
export class ServiceUnavailableError extends DomainError {
  readonly status = 503;
  readonly type = 'service-unavailable';
  readonly retryAfterSeconds: number | undefined;
  constructor(
    message: string,
    options?: { retryable?: boolean; retryAfterSeconds?: number; cause?: unknown },
  ) {
    const retryable = options?.retryable ?? true;
    super(message, { ...options, retryable });
    this.retryAfterSeconds = retryable ? (options?.retryAfterSeconds ?? 5) : undefined;
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
  override readonly retryable = false;
}

/** The ServiceUnavailableError in `error` or its chain of causes (a use case may wrap it). */
export function serviceUnavailableIn(error: unknown): ServiceUnavailableError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ServiceUnavailableError) return e;
  }
  return undefined;
}

/**
 * An ingestion ran out of its time (the ingest function's remaining time less a margin, or
 * INGEST_DEADLINE_SECONDS locally) before anything was stored. Like a document limit it is final: another
 * delivery would spend the same time on the same document.
 */
export class IngestDeadlineError extends DocumentLimitError {}
