import { describe, expect, it } from 'vitest';
import { isTransientFault, unavailableOr } from '#shared/adapters/transient-fault.ts';
import {
  NotFoundError,
  ProviderError,
  ServiceUnavailableError,
  ValidationError,
} from '#shared/domain/errors.ts';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
/** fetch's shape for a socket failure: TypeError('fetch failed') with the reason as its cause. */
const fetchFailed = (code: string) => new TypeError('fetch failed', { cause: coded(code) });
const named = (name: string) => Object.assign(new Error(name), { name });
const http = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

describe('isTransientFault', () => {
  it.each([
    ['a refused connection', coded('ECONNREFUSED')],
    ['a reset connection', coded('ECONNRESET')],
    ['a broken pipe', coded('EPIPE')],
    ['a DNS lookup that may succeed later', coded('EAI_AGAIN')],
    ['fetch failing on a refused socket', fetchFailed('ECONNREFUSED')],
    ['undici losing its socket', fetchFailed('UND_ERR_SOCKET')],
    ['postgres.js: connection closed', coded('CONNECTION_CLOSED')],
    ['postgres.js: connection destroyed', coded('CONNECTION_DESTROYED')],
    ['postgres.js: connect timeout', coded('CONNECT_TIMEOUT')],
    [
      'PostgreSQL shutting down (57P01)',
      coded('57P01', 'terminating connection due to administrator command'),
    ],
    ['PostgreSQL starting up (57P03)', coded('57P03', 'the database system is starting up')],
    ['too many connections (53300)', coded('53300')],
    ['statement timeout (57014)', coded('57014', 'canceling statement due to statement timeout')],
    ['a connection exception (class 08)', coded('08006')],
    ['a serialization failure (40001)', coded('40001')],
    ['an AbortSignal.timeout', named('TimeoutError')],
    ['the Qdrant client timing out', named('QdrantClientTimeoutError')],
    ['Qdrant answering 503', http(503)],
    ['Qdrant answering 500', http(500)],
    ['Qdrant rate limiting (429)', http(429)],
    ['SQS throttling', Object.assign(named('ThrottlingException'), { $retryable: { throttling: true } })],
    ['an AWS 5xx', Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 502 } })],
    ['a retryable ServiceUnavailableError', new ServiceUnavailableError('down')],
    ['a refusal wrapped in a plain error', new Error('upsert failed', { cause: coded('ECONNRESET') })],
  ])('when the error is %s then it is transient', (_what, error) => {
    expect(isTransientFault(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', coded('23505')],
    ['a syntax error (42601)', coded('42601')],
    ['a missing extension (0A000)', coded('0A000', 'extension "vector" is not available')],
    ['a permission error (42501)', coded('42501')],
    ['Qdrant refusing a request (400)', http(400)],
    ['Qdrant not finding a collection (404)', http(404)],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a string', 'ECONNREFUSED'],
    ['nothing', undefined],
    [
      'a misconfiguration only an operator can fix',
      new ServiceUnavailableError('no pgvector', { retryable: false }),
    ],
    // A URL source whose host refuses connections: the fetcher's ValidationError decides, not its cause.
    [
      'a tenant URL that cannot be fetched',
      new ValidationError('The URL could not be fetched', { cause: coded('ECONNREFUSED') }),
    ],
    ['a provider refusing a key', new ProviderError('bad key', { status: 400, cause: http(401) })],
    ['a not-found', new NotFoundError('Source')],
  ])('when the error is %s then it is not transient', (_what, error) => {
    expect(isTransientFault(error)).toBe(false);
  });

  it('when causes loop then the walk still ends', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isTransientFault(a)).toBe(false);
  });
});

describe('unavailableOr', () => {
  it('when the fault is transient then it becomes a 503 naming the service, with the raw error as cause', () => {
    const raw = coded('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:5432');
    const error = unavailableOr(raw, 'database') as ServiceUnavailableError;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, retryable: true, retryAfterSeconds: 5, cause: raw });
    expect(error.message).toBe('The database is unavailable right now; try again in a few seconds.');
    expect(error.message).not.toContain('10.0.0.5'); // the response names no host
  });

  it('when the fault is not transient then it is returned unchanged', () => {
    const raw = coded('23505');
    expect(unavailableOr(raw, 'database')).toBe(raw);
  });
});
