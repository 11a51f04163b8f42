import { ApiError, ConnectionError, UsageError } from '../client/api-error.ts';
import { DEFAULT_API_URL } from '../client/connection.ts';
import { note, red } from './style.ts';

/** The sentence(s) to show for an error: the API's problem `detail`, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const errors = (error.problem.errors as { field?: string; message?: string }[] | undefined) ?? [];
    const fields = errors
      .filter((e) => e.field && e.message && !error.message.includes(e.message))
      .map((e) => `  ${e.field}: ${e.message}`);
    return [`${error.message} (HTTP ${error.status})`, ...fields].join('\n');
  }
  if (error instanceof ConnectionError) {
    const hint =
      error.url === DEFAULT_API_URL
        ? 'Start the local server with `npm start` (or `npx minirag serve`), or point --api-url / MINIRAG_API_URL at a running one.'
        : 'Check --api-url / MINIRAG_API_URL and that the server is running.';
    return `${error.message} ${hint}`;
  }
  if (error instanceof UsageError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Wraps a commander action: an error is printed as one readable message on stderr and the process
 * exits non-zero, instead of an unhandled rejection with a stack.
 */
export function handled<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      note(red(`Error: ${describeError(error)}`, process.stderr));
      process.exitCode = 1;
    }
  };
}
