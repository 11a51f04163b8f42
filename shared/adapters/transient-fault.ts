import { DomainError, ServiceUnavailableError } from '../domain/errors.ts';

/** Node and undici socket errors: the peer is down, unreachable, restarting or too slow. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** porsager/postgres's own connection errors (`error.code`). */
const POSTGRES_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATEs that say "the server cannot serve you right now", not "your statement is wrong": shutdowns and
 * restarts (57P01–57P03), too many connections (53300), out of memory (53200), a statement or idle timeout
 * (57014, 25P03), lock and serialization conflicts that another try resolves (55P03, 40001, 40P01). Class 08
 * is every connection exception.
 */
const POSTGRES_TRANSIENT_STATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53200',
  '57014',
  '25P03',
  '55P03',
  '40001',
  '40P01',
]);

/** Error names of client-side timeouts (AbortSignal.timeout, the Qdrant client, undici). */
const TIMEOUT_NAMES = new Set(['TimeoutError', 'QdrantClientTimeoutError', 'ConnectTimeoutError']);

/** AWS SDK v3 errors that its own retry strategy treats as throttling or a service fault. */
const AWS_THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalError',
  'KMSInternalException',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

function isTransientShape(e: ErrorShape): boolean {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (NETWORK_CODES.has(code) || POSTGRES_CLIENT_CODES.has(code))) return true;
  if (code && (POSTGRES_TRANSIENT_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof e.name === 'string' && (TIMEOUT_NAMES.has(e.name) || AWS_THROTTLING_NAMES.has(e.name)))
    return true;
  // An HTTP client error for a service of ours (Qdrant): 5xx, 408 and 429 pass; other 4xx are our bug.
  if (typeof e.status === 'number' && (e.status >= 500 || e.status === 408 || e.status === 429)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const awsStatus = e.$metadata?.httpStatusCode;
  return typeof awsStatus === 'number' && awsStatus >= 500;
}

/**
 * The one classification of infrastructure faults: true when `error` (or one of its causes) says the
 * database, the vector store or the queue is unreachable, restarting, overloaded, throttling or too slow
 * — so the same request may succeed in a few seconds — and false for anything that would fail again the
 * same way (a constraint violation, a bad statement, a 4xx). A domain error decides for itself: only a
 * retryable ServiceUnavailableError is transient, and the causes behind any other one are not looked at
 * (a URL source whose host refuses connections is the document's problem, not ours).
 */
export function isTransientFault(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof ServiceUnavailableError) return current.retryable;
    if (current instanceof DomainError) return false;
    if (isTransientShape(current as ErrorShape)) return true;
    current = (current as ErrorShape).cause;
  }
  return false;
}

/** A short, credential-free label of the fault for logs: the first error code or name in the chain. */
export function faultCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const e = current as ErrorShape;
    if (typeof e.code === 'string') return e.code;
    if (typeof e.status === 'number') return `HTTP ${e.status}`;
    current = e.cause;
  }
  return undefined;
}

/**
 * What an adapter throws instead of a transient fault: a ServiceUnavailableError naming the service, with
 * the raw error as its cause (for the log). Anything else is returned unchanged for the caller to rethrow.
 */
export function unavailableOr(error: unknown, service: string): unknown {
  if (error instanceof ServiceUnavailableError || !isTransientFault(error)) return error;
  return new ServiceUnavailableError(`The ${service} is unavailable right now; try again in a few seconds.`, {
    cause: error,
  });
}
