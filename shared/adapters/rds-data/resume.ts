import { ServiceUnavailableError } from '../../domain/errors.ts';

/** A statement PostgreSQL refused, with its SQLSTATE as `code` (as the other adapters report it). */
export class DatabaseStatementError extends Error {
  override readonly name = 'DatabaseStatementError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const RESUMING = 'DatabaseResumingException';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One Data API call. A paused cluster answers DatabaseResumingException while it wakes (typically ~15 s):
 * the call is tried again with growing delays until `budgetMs` is spent, then fails as 503 with Retry-After so
 * the client (or, for ingestion, the queue) comes back later. A statement error carries its SQLSTATE as
 * `code`, parsed from the message the Data API relays ("…; SQLState: 23505").
 */
export async function callWithResume<T>(call: () => Promise<T>, budgetMs: number): Promise<T> {
  const started = Date.now();
  for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await call();
    } catch (error) {
      const name = (error as { name?: string })?.name;
      if (name === RESUMING) {
        const left = budgetMs - (Date.now() - started);
        if (left <= 0) {
          throw new ServiceUnavailableError(
            'The database is resuming after a pause; try again in a few seconds.',
            { retryAfterSeconds: 10, cause: error },
          );
        }
        await sleep(Math.min(delay, left));
        continue;
      }
      throw statementError(error);
    }
  }
}

function statementError(error: unknown): unknown {
  const name = (error as { name?: string })?.name;
  if (name !== 'DatabaseErrorException' && name !== 'BadRequestException') return error;
  const message = (error as Error).message;
  if (/response size limit/i.test(message)) {
    return new DatabaseStatementError(
      'The result is larger than the 1 MiB the RDS Data API returns in one response; the query must be paged.',
      undefined,
      { cause: error },
    );
  }
  const code = /SQLState: ([0-9A-Z]{5})/.exec(message)?.[1];
  return new DatabaseStatementError(message, code, { cause: error });
}
