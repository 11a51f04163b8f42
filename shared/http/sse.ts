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

export interface SseTiming {
  /** Keep-alive comments at most this far apart keep idle proxies and load balancers from closing the stream. */
  readonly keepAliveMs: number;
}

/**
 * Streams frames as text/event-stream. Everything that could fail before the first byte has already
 * run (and answered as an ordinary problem response); an error from here on becomes an SSE `error`
 * event. The client going away aborts `controller`, which stops the provider call.
 */
export function sseResponse(
  c: Context,
  frames: (signal: AbortSignal) => AsyncIterable<SseFrame>,
  logger: Logger,
  timing: SseTiming,
  controller = new AbortController(),
): Response {
  const response = streamSSE(c, async (stream) => {
    stream.onAbort(() => controller.abort(new Error('client disconnected')));
    const keepAlive = setInterval(
      () => void stream.write(': keep-alive\n\n').catch(() => {}),
      timing.keepAliveMs,
    );
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
      clearInterval(keepAlive);
    }
  });
  // Reverse proxies (nginx, and CDNs that honour it) must pass each event on as it is written, unaltered.
  // Set on the response: streamSSE sets its own plain `no-cache`.
  response.headers.set('X-Accel-Buffering', 'no');
  response.headers.set('Cache-Control', 'no-cache, no-transform');
  return response;
}

export interface Primed<T> {
  readonly items: AsyncIterable<T>;
  /** The first item had not come when the grace period ended: the response starts without it. */
  readonly waiting: boolean;
}

/**
 * Waits up to `graceMs` for a stream's first item before the response starts, so a failure that early
 * (the provider refusing the bot's key, a rate limit) is an ordinary problem response, not an SSE
 * `error` event. A provider slower than that must not leave the client with no bytes at all: then the
 * response starts anyway and a later failure arrives as the `error` event.
 */
export async function primed<T>(source: AsyncIterable<T>, graceMs: number): Promise<Primed<T>> {
  const iterator = source[Symbol.asyncIterator]();
  const first = iterator.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), graceMs);
  });
  const winner = await Promise.race([first, graceOver]).finally(() => clearTimeout(timer));
  // Past the grace period a rejection is read by the stream below; until then nobody awaits it.
  if (winner === 'grace-over') first.catch(() => {});
  return {
    waiting: winner === 'grace-over',
    items: {
      async *[Symbol.asyncIterator]() {
        try {
          for (let next = await first; !next.done; next = await iterator.next()) yield next.value;
        } finally {
          await iterator.return?.(undefined);
        }
      },
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
