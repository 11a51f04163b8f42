import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Lambda Runtime API (2018-06-01) of one function instance, the service side: it hands the instance one
 * invocation at a time on GET …/invocation/next and collects what the runtime posts back — a buffered
 * response, a streamed one (chunked, `Lambda-Runtime-Function-Response-Mode: streaming`, errors as
 * trailers), an invocation error, or an init error.
 */
export type InvocationOutcome =
  | { readonly kind: 'response'; readonly payload: unknown }
  | {
      readonly kind: 'stream';
      readonly contentType: string;
      /** The bytes as they arrive; ends when the function ends its stream. */
      readonly body: ReadableStream<Uint8Array>;
      /** Resolves once the stream ended: the error the runtime reported in the trailers, if any. */
      readonly trailerError: Promise<FunctionError | undefined>;
    }
  | { readonly kind: 'error'; readonly error: FunctionError };

export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  /** `init` when the module failed to load (Lambda reports it to the invoker as an init error). */
  readonly phase: 'init' | 'invoke';
}

interface Pending {
  readonly id: string;
  readonly event: unknown;
  readonly deadlineMs: number;
  settle(outcome: InvocationOutcome): void;
}

export interface RuntimeApi {
  /** host:port, what AWS_LAMBDA_RUNTIME_API holds. */
  readonly address: string;
  invoke(event: unknown, timeoutMs: number): Promise<InvocationOutcome>;
  /** Fails the invocation in flight (the instance died or timed out) and every queued one. */
  abort(error: FunctionError): void;
  close(): Promise<void>;
}

export async function startRuntimeApi(functionArn: string): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  let waiting: ServerResponse | undefined;
  let current: Pending | undefined;
  let initError: FunctionError | undefined;

  const deliver = () => {
    if (!waiting || current || queue.length === 0) return;
    current = queue.shift()!;
    const res = waiting;
    waiting = undefined;
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': current.id,
        'lambda-runtime-deadline-ms': String(current.deadlineMs),
        'lambda-runtime-invoked-function-arn': functionArn,
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
      })
      .end(JSON.stringify(current.event));
  };
  const finish = (outcome: InvocationOutcome) => {
    const pending = current;
    current = undefined;
    pending?.settle(outcome);
    deliver();
  };

  // GET …/next is a long poll: no request or header timeout may cut it while the instance waits for work.
  const server = createServer(
    { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 60_000 },
    async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://runtime').pathname;
      if (req.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
        waiting = res;
        deliver();
        return;
      }
      const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (req.method === 'POST' && path === '/2018-06-01/runtime/init/error') {
        initError = { ...(JSON.parse(await readText(req)) as FunctionError), phase: 'init' };
        res.writeHead(202).end('{"status":"OK"}');
        for (const p of [current, ...queue.splice(0)]) p?.settle({ kind: 'error', error: initError });
        current = undefined;
        return;
      }
      if (req.method !== 'POST' || !match || match[1] !== current?.id) {
        res.writeHead(400).end('{"errorType":"InvalidRequestID"}');
        return;
      }
      if (match[2] === 'error') {
        const body = JSON.parse(await readText(req)) as { errorType: string; errorMessage: string };
        res.writeHead(202).end('{"status":"OK"}');
        finish({ kind: 'error', error: { ...body, phase: 'invoke' } });
        return;
      }
      if (req.headers['lambda-runtime-function-response-mode'] === 'streaming') {
        finish(streamed(req, res));
        return;
      }
      const text = await readText(req);
      res.writeHead(202).end('{"status":"OK"}');
      finish({ kind: 'response', payload: text === '' ? null : JSON.parse(text) });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    invoke(event, timeoutMs) {
      if (initError) return Promise.resolve({ kind: 'error', error: initError });
      return new Promise((settle) => {
        queue.push({ id: randomUUID(), event, deadlineMs: Date.now() + timeoutMs, settle });
        deliver();
      });
    },
    abort(error) {
      for (const p of [current, ...queue.splice(0)]) p?.settle({ kind: 'error', error });
      current = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        waiting?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A streamed response: the body passes through as it arrives; the trailers may report an error at the end. */
function streamed(req: IncomingMessage, res: ServerResponse): InvocationOutcome {
  let reportError: (error: FunctionError | undefined) => void = () => {};
  const trailerError = new Promise<FunctionError | undefined>((resolve) => {
    reportError = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      req.on('end', () => {
        const type = req.trailers['lambda-runtime-function-error-type'];
        const encoded = req.trailers['lambda-runtime-function-error-body'];
        const detail = encoded ? JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) : {};
        reportError(
          type ? { errorType: type, errorMessage: detail.errorMessage ?? '', phase: 'invoke' } : undefined,
        );
        res.writeHead(202).end('{"status":"OK"}');
        controller.close();
      });
      req.on('error', (error) => controller.error(error));
    },
  });
  return {
    kind: 'stream',
    contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
    body,
    trailerError,
  };
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
