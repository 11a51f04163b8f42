import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBehaviourScript, type FakeBehaviour, type ScriptedBehaviour } from './fake-behaviour.ts';

export type { FailureBehaviour, FakeBehaviour, ScriptedBehaviour } from './fake-behaviour.ts';

/**
 * The machinery the fake provider servers (openai-server.ts, anthropic-server.ts) share: a node:http
 * server on 127.0.0.1, request recording, credential checks, and a script of behaviours. Each provider
 * supplies a `ProviderDialect` that speaks its wire format.
 */

export type JsonBody = Record<string, unknown>;

export interface RecordedRequest<E extends string = string> {
  /** 1-based arrival number. */
  readonly sequence: number;
  /** `performance.now()` when the request had arrived in full. */
  readonly receivedAt: number;
  readonly endpoint: E | undefined;
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; undefined when there was none or it was not a JSON object. */
  readonly body: JsonBody | undefined;
  /** The behaviour applied (what a `fail-ratio` chose); undefined when refused before the script ran. */
  behaviour: FakeBehaviour['kind'] | undefined;
  status: number;
  /** `client-closed`: the client went away first (an abort or a timeout); `cut`: the script cut it. */
  state: 'open' | 'completed' | 'cut' | 'client-closed';
}

export interface FakeProviderServer<E extends string> {
  /** Base URL for the SDK's `baseURL` (the OpenAI fake's includes `/v1`). */
  readonly url: string;
  /** Every request, in arrival order, including refused ones. */
  readonly requests: RecordedRequest<E>[];
  /** Queues one-shot behaviours, taken in order by the next (matching) requests. */
  script(...behaviours: ScriptedBehaviour<E>[]): void;
  /** The behaviour when the queue has none for a request. Initially `{ kind: 'ok' }`. */
  setDefault(behaviour: FakeBehaviour): void;
  /** Empties the queue and `requests`, and restores the initial default. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  /** The only key accepted; `null` accepts any. Each fake has its own default key constant. */
  readonly apiKey?: string | null;
  /** The answer text (default `DEFAULT_FAKE_REPLY`), or a function of the request. */
  readonly reply?: string | ((request: RecordedRequest) => string);
  /** Wait before answering each request. Default 0. */
  readonly latencyMs?: number;
  /** Wait between two stream events. Default 0. */
  readonly chunkDelayMs?: number;
  readonly defaultBehaviour?: FakeBehaviour;
  /**
   * Echo the key the request presented in every error: in the error message (JSON bodies and in-stream
   * error events) and in an `x-echoed-api-key` response header. Real providers mask or omit it; a fake that
   * hands it back whole makes any path that forwards provider errors show up in a leak scan.
   */
  readonly echoKey?: boolean;
}

/** The header an `echoKey` fake puts the presented key in. */
export const ECHOED_KEY_HEADER = 'x-echoed-api-key';

export const DEFAULT_FAKE_REPLY = 'This is a fake answer from the knowledge base [1].';

export type ErrorKind =
  | 'invalid'
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate-limited'
  | 'server-error';

/** One request the dialect answers (behaviour `ok`, `cut-stream` or `stream-error`). */
export interface Exchange<E extends string> {
  readonly endpoint: E;
  readonly sequence: number;
  readonly body: JsonBody;
  readonly reply: string;
  readonly behaviour: Extract<FakeBehaviour, { kind: 'ok' | 'cut-stream' | 'stream-error' }>;
  /** Sends a JSON response; under `cut-stream`, half of it and then the socket is destroyed. */
  json(status: number, body: unknown): void;
  /** Starts a `text/event-stream` response. */
  sse(): SseWriter;
}

export interface SseWriter {
  /** Writes one event; false when the script stopped the stream (or the client left): stop sending. */
  send(data: string, event?: string): Promise<boolean>;
  /** Ends the response (under `cut-stream` the socket is destroyed instead). */
  end(): void;
}

export interface ProviderDialect<E extends string> {
  /** Appended to the server's origin to make `url` (OpenAI SDKs expect `/v1` in the base URL). */
  readonly urlSuffix: string;
  readonly requestIdHeader: string;
  route(method: string, path: string): E | undefined;
  authorized(headers: Readonly<Record<string, string>>, apiKey: string | null): boolean;
  /** The key a request presented (in the provider's own header), if any. */
  presentedKey(headers: Readonly<Record<string, string>>): string | undefined;
  /** Why a request is refused with 400 (a provider-style message), or undefined when it is valid. */
  invalid(endpoint: E, body: JsonBody, headers: Readonly<Record<string, string>>): string | undefined;
  errorBody(kind: ErrorKind, request: RecordedRequest<E>, detail: string): object;
  /** The provider's in-stream error event, for `stream-error`. */
  streamError(): { data: string; event?: string };
  respond(exchange: Exchange<E>): Promise<void> | void;
}

export async function startScriptedServer<E extends string>(
  dialect: ProviderDialect<E>,
  options: FakeServerOptions & { readonly apiKey: string | null },
): Promise<FakeProviderServer<E>> {
  const requests: RecordedRequest<E>[] = [];
  const behaviours = createBehaviourScript<E>(options.defaultBehaviour ?? { kind: 'ok' });
  const sockets = new Set<Socket>();
  let sequence = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    const endpoint = dialect.route(method, path);
    const body = parseObject(raw);
    const record: RecordedRequest<E> = {
      sequence: ++sequence,
      receivedAt: performance.now(),
      endpoint,
      method,
      path,
      headers,
      body,
      behaviour: undefined,
      status: 0,
      state: 'open',
    };
    requests.push(record);
    res.setHeader(dialect.requestIdHeader, `req_fake_${record.sequence}`);
    res.on('close', () => {
      if (record.state === 'open') record.state = res.writableFinished ? 'completed' : 'client-closed';
    });
    const presented = dialect.presentedKey(headers) ?? '';
    const echo = options.echoKey && presented !== '';
    const refuse = (kind: ErrorKind, status: number, detail = '', extra: Record<string, string> = {}) => {
      record.status = status;
      const body = dialect.errorBody(kind, record, detail);
      res.writeHead(status, {
        'content-type': 'application/json',
        ...extra,
        ...(echo ? { [ECHOED_KEY_HEADER]: presented } : {}),
      });
      res.end(JSON.stringify(echo ? withEchoedKey(body, presented) : body));
    };

    if (endpoint === undefined) return refuse('not-found', 404);
    if (!dialect.authorized(headers, options.apiKey)) return refuse('unauthorized', 401);
    const invalid =
      body === undefined
        ? 'The request body is not a JSON object.'
        : dialect.invalid(endpoint, body, headers);
    if (invalid !== undefined || body === undefined) return refuse('invalid', 400, invalid);

    const behaviour = behaviours.next(endpoint);
    record.behaviour = behaviour.kind;
    if (options.latencyMs) await sleep(options.latencyMs);
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    switch (behaviour.kind) {
      case 'hang':
        return;
      case 'bad-request':
        return refuse('invalid', 400, 'The request could not be processed.');
      case 'unauthorized':
        return refuse('unauthorized', 401);
      case 'forbidden':
        return refuse('forbidden', 403);
      case 'rate-limited':
        return refuse('rate-limited', 429, '', { 'retry-after': String(behaviour.retryAfter ?? 1) });
      case 'server-error':
        return refuse('server-error', behaviour.status ?? 500);
    }
    const configured = typeof options.reply === 'function' ? options.reply(record) : options.reply;
    const reply = behaviour.reply ?? configured ?? DEFAULT_FAKE_REPLY;
    const chunkDelayMs =
      (behaviour.kind === 'ok' ? behaviour.chunkDelayMs : undefined) ?? options.chunkDelayMs ?? 0;

    const cut = () => {
      record.state = 'cut';
      res.destroy();
    };
    await dialect.respond({
      endpoint,
      sequence: record.sequence,
      body,
      reply,
      behaviour,
      json(status, payload) {
        record.status = status;
        const text = JSON.stringify(payload);
        if (behaviour.kind !== 'cut-stream') {
          res.writeHead(status, { 'content-type': 'application/json' }).end(text);
          return;
        }
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.write(text.slice(0, text.length / 2), cut);
      },
      sse() {
        record.status = 200;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        });
        res.flushHeaders();
        let sent = 0;
        let stopped = false;
        const write = (data: string, event?: string) =>
          new Promise<void>((resolve) =>
            res.write(`${event ? `event: ${event}\n` : ''}data: ${data}\n\n`, () => resolve()),
          );
        return {
          async send(data, event) {
            if (stopped || record.state !== 'open') return false;
            if (behaviour.kind !== 'ok' && sent >= behaviour.afterChunks) {
              stopped = true;
              if (behaviour.kind === 'cut-stream') cut();
              else {
                const error = dialect.streamError();
                const data = echo
                  ? JSON.stringify(withEchoedKey(JSON.parse(error.data), presented))
                  : error.data;
                await write(data, error.event);
                res.end();
              }
              return false;
            }
            if (sent > 0 && chunkDelayMs > 0) await sleep(chunkDelayMs);
            sent++;
            await write(data, event);
            return record.state === 'open';
          },
          end() {
            if (stopped) return;
            stopped = true;
            if (behaviour.kind === 'cut-stream') cut();
            else res.end();
          },
        };
      },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake provider failed: ${String(error)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${dialect.urlSuffix}`,
    requests,
    script: behaviours.script,
    setDefault: behaviours.setDefault,
    reset() {
      behaviours.reset();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hung and streaming responses would keep the server open forever.
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Both providers' error JSON has `error.message`: the key goes there, where SDKs and adapters read. */
function withEchoedKey(body: object, key: string): object {
  const error = (body as { error?: { message?: string } }).error;
  if (!error) return body;
  return { ...body, error: { ...error, message: `${error.message ?? ''} (API key: ${key})` } };
}

/** Word-sized stream pieces, each word with the whitespace after it; they join back to `text`. */
export function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\s)(?=\S)/);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(raw: string): JsonBody | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonBody)
      : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
