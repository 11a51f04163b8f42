import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { unavailableOr } from '../adapters/transient-fault.ts';
import { errorLogFields } from '../domain/error-log.ts';
import { DomainError } from '../domain/errors.ts';
import type { Logger } from '../ports/logger.ts';
import { PROBLEM_BASE } from './problem.ts';

export interface SseFrame {
  readonly event?: string;
  readonly data: string;
}

/** Comment lines every 15 s keep idle proxies and load balancers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Streams frames as text/event-stream. Everything that could fail before the first byte has already
 * run (and answered as an ordinary problem response); an error from here on becomes an SSE `error`
 * event. The client going away aborts `controller`, which stops the provider call.
 */
export function sseResponse(
  c: Context,
  frames: (signal: AbortSignal) => AsyncIterable<SseFrame>,
  logger: Logger,
  controller = new AbortController(),
): Response {
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => controller.abort(new Error('client disconnected')));
    const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n').catch(() => {}), HEARTBEAT_MS);
    try {
      for await (const frame of frames(controller.signal)) {
        if (stream.aborted) break;
        await stream.writeSSE(frame.event ? { event: frame.event, data: frame.data } : { data: frame.data });
      }
    } catch (error) {
      if (!stream.aborted)
        await stream.writeSSE({
          event: 'error',
          data: JSON.stringify(errorEvent(error, logger, c.get('requestId' as never) as string | undefined)),
        });
    } finally {
      clearInterval(heartbeat);
    }
  });
}

/**
 * Runs a stream up to its first item before the response starts, so a failure that early (the provider
 * refusing the bot's key, a rate limit) is an ordinary problem response, not an SSE `error` event.
 */
export async function primed<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (let next = first; !next.done; next = await iterator.next()) yield next.value;
      } finally {
        await iterator.return?.();
      }
    },
  };
}

function errorEvent(raw: unknown, logger: Logger, requestId: string | undefined) {
  const error = unavailableOr(raw, 'service');
  if (error instanceof DomainError) {
    if (error.status >= 500)
      logger.error('stream failed', { requestId, type: error.type, ...errorLogFields(error) });
    return {
      type: PROBLEM_BASE + error.type,
      status: error.status,
      detail: error.message,
      ...('retryAfterSeconds' in error && error.retryAfterSeconds !== undefined
        ? { retry_after: error.retryAfterSeconds }
        : {}),
    };
  }
  logger.error('stream failed', { requestId, ...errorLogFields(error) });
  return {
    type: `${PROBLEM_BASE}internal-error`,
    status: 500,
    detail: 'The answer stream failed on our side.',
  };
}
