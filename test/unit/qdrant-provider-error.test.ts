import { describe, expect, it } from 'vitest';
import { isAlreadyExists, qdrantProviderError } from '#shared/adapters/qdrant/provider-error.ts';
import { ProviderError, ServiceUnavailableError } from '#shared/domain/errors.ts';

/** The shapes the Qdrant js client throws: an HTTP error with the parsed body in `data`, or fetch's TypeError. */
const httpError = (status: number, body: unknown, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`Bad Request`), { status, data: body, ...extra });
const qdrantBody = (error: string) => ({ status: { error }, time: 0 });

describe('Qdrant errors', () => {
  it("when Qdrant answers 4xx with its error body then a 502 ProviderError quotes the body's error", () => {
    const cause = httpError(400, qdrantBody('Wrong input: Vector dimension error'));
    const error = qdrantProviderError('search', cause, undefined);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 502,
      cause,
      message: 'Qdrant search failed (HTTP 400): Wrong input: Vector dimension error',
    });
  });

  it('when the body has no error text then the error message is used, and without a status no HTTP part', () => {
    expect(qdrantProviderError('upsert', httpError(404, 'Not Found'), undefined).message).toBe(
      'Qdrant upsert failed (HTTP 404): Bad Request',
    );
    expect(qdrantProviderError('upsert', httpError(404, { status: { error: 7 } }), undefined).message).toBe(
      'Qdrant upsert failed (HTTP 404): Bad Request',
    );
    expect(qdrantProviderError('count', new Error('boom'), undefined).message).toBe(
      'Qdrant count failed: boom',
    );
    expect(qdrantProviderError('count', 'a string', undefined).message).toBe('Qdrant count failed: a string');
    expect(qdrantProviderError('count', null, undefined).message).toBe('Qdrant count failed: null');
    expect(
      qdrantProviderError('count', Object.assign(new Error('x'), { status: '500' }), undefined).message,
    ).toBe('Qdrant count failed: x');
  });

  it('when the detail is long then at most 300 characters of it are kept', () => {
    const message = qdrantProviderError('delete', new Error('y'.repeat(1000)), undefined).message;
    expect(message).toBe(`Qdrant delete failed: ${'y'.repeat(300)}`);
  });

  it('when the API key appears anywhere in the text then it is redacted', () => {
    const key = 'secret-api-key-123';
    const error = qdrantProviderError('search', httpError(400, qdrantBody(`bad key ${key} and ${key}`)), key);
    expect(error.message).toBe('Qdrant search failed (HTTP 400): bad key [redacted] and [redacted]');
  });

  it('when the server cannot be reached then a retryable 503 names the reason', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    const error = qdrantProviderError('upsert', refused, undefined);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, retryable: true, cause: refused });
    expect(error.message).toBe(
      'The vector store is unavailable right now (Qdrant upsert failed: cannot reach the server (ECONNREFUSED)); try again in a few seconds.',
    );
    const noCode = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect(qdrantProviderError('upsert', noCode, undefined).message).toContain(
      'cannot reach the server (other side closed)',
    );
    // The same text with another message is not a network failure.
    expect(
      qdrantProviderError('upsert', Object.assign(new Error('nope'), { cause: { code: 'X' } }), undefined)
        .message,
    ).toBe('Qdrant upsert failed: nope');
  });

  it('when fetch fails without a reason, or a body has a null status, then the error still has a message', () => {
    expect(qdrantProviderError('upsert', new TypeError('fetch failed'), undefined).message).toBe(
      'Qdrant upsert failed: fetch failed',
    );
    expect(qdrantProviderError('upsert', httpError(400, { status: null }), undefined).message).toBe(
      'Qdrant upsert failed (HTTP 400): Bad Request',
    );
  });

  it('when no API key is configured then nothing is redacted, not even the word undefined', () => {
    expect(qdrantProviderError('search', new Error('offset undefined'), undefined).message).toBe(
      'Qdrant search failed: offset undefined',
    );
  });

  it('when Qdrant is rate limiting then a 503 carries its retry-after', () => {
    const limited = qdrantProviderError('search', httpError(429, qdrantBody('slow down')), undefined);
    expect(limited).toBeInstanceOf(ServiceUnavailableError);
    expect(limited).toMatchObject({ retryAfterSeconds: 5 });
    const withAfter = qdrantProviderError(
      'search',
      httpError(400, qdrantBody('rate limited'), { retry_after: 12 }),
      undefined,
    );
    expect(withAfter).toBeInstanceOf(ServiceUnavailableError);
    expect(withAfter).toMatchObject({ retryAfterSeconds: 12 });
    expect(withAfter.message).toContain('Qdrant search failed (HTTP 400): rate limited');
    const notNumber = qdrantProviderError(
      'search',
      httpError(400, qdrantBody('x'), { retry_after: '12' }),
      undefined,
    );
    expect(notNumber).not.toBeInstanceOf(ServiceUnavailableError);
  });

  it('when Qdrant answers 5xx then a retryable 503', () => {
    expect(
      qdrantProviderError('search', httpError(503, qdrantBody('Service Unavailable')), undefined),
    ).toBeInstanceOf(ServiceUnavailableError);
  });

  it('when a collection already exists then that is recognised (409, or 400 saying so), and nothing else', () => {
    expect(isAlreadyExists(httpError(409, qdrantBody('Collection `x` already exists!')))).toBe(true);
    expect(isAlreadyExists(httpError(409, undefined))).toBe(true);
    expect(isAlreadyExists(httpError(400, qdrantBody('Wrong input: Collection `x` Already Exists!')))).toBe(
      true,
    );
    expect(isAlreadyExists(httpError(400, qdrantBody('Wrong input: bad vector')))).toBe(false);
    expect(isAlreadyExists(httpError(400, { status: 'already exists' }))).toBe(false);
    expect(isAlreadyExists(httpError(500, qdrantBody('already exists')))).toBe(false);
    expect(isAlreadyExists(httpError(400, { status: { error: ['already exists'] } }))).toBe(false);
    expect(isAlreadyExists(httpError(400, { status: null }))).toBe(false);
    expect(isAlreadyExists(null)).toBe(false);
    expect(isAlreadyExists('already exists')).toBe(false);
  });
});
