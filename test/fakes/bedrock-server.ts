import {
  createServer,
  type Http2Session,
  type Http2ServerRequest as IncomingMessage,
  type Http2ServerResponse as ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { createOfflineEmbedder } from '#shared/adapters/offline/embedder.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { DEFAULT_FAKE_REPLY, splitWords } from './scripted-provider-server.ts';

/**
 * A stand-in for the Amazon Bedrock runtime (and the agent runtime's Rerank) on 127.0.0.1, reached through
 * the SDK's `endpoint` setting. Both SDK clients talk HTTP/2 (NodeHttp2Handler), so this is an HTTP/2
 * server (cleartext, prior knowledge). It speaks the real restJson1 protocol:
 * - `POST /model/{modelId}/converse`: ConverseResponse JSON;
 * - `POST /model/{modelId}/converse-stream`: `application/vnd.amazon.eventstream` frames built with the
 *   SDK's own codec (messageStart, contentBlockDelta…, contentBlockStop, messageStop, metadata with usage;
 *   exception frames such as throttlingException mid-stream);
 * - `POST /model/{modelId}/invoke`: Titan Text Embeddings V2 and Cohere Embed v3/v4 request/response bodies;
 * - `POST /rerank`: the agent runtime's Rerank (scores by shared words, so relevance is checkable);
 * - errors as Bedrock sends them: the status, `x-amzn-ErrorType` and `{ message }`, which the SDK turns into
 *   ThrottlingException, AccessDeniedException, ValidationException, ModelTimeoutException, …
 * Every request must be SigV4-signed for the `bedrock` signing name; the region it was signed for is
 * recorded. With `echoCredentials`, error messages quote the request's Authorization header and session
 * token, so a leak scan catches any path that forwards them.
 */

/** Credentials only the stand-in sees: a leak scan looks for these. */
export const FAKE_AWS_CREDENTIALS = {
  accessKeyId: 'AKIAFAKEBEDROCK00001',
  secretAccessKey: 'fakeSecretKeyForTheBedrockStandIn0123456789ab',
  sessionToken: 'FakeSessionTokenForTheBedrockStandInThatIsLongEnoughToLookReal0123456789',
};

export type BedrockEndpoint = 'converse' | 'converse-stream' | 'invoke' | 'rerank';

export type BedrockErrorName =
  | 'AccessDeniedException'
  | 'ThrottlingException'
  | 'ValidationException'
  | 'ModelTimeoutException'
  | 'ServiceUnavailableException'
  | 'ResourceNotFoundException'
  | 'InternalServerException';

export type BedrockStreamException =
  | 'throttlingException'
  | 'modelStreamErrorException'
  | 'internalServerException'
  | 'serviceUnavailableException'
  | 'validationException';

export type BedrockBehaviour =
  | { readonly kind: 'ok'; readonly reply?: string; readonly chunkDelayMs?: number }
  /** Refused before any byte of the answer, the way Bedrock refuses. */
  | { readonly kind: 'error'; readonly error: BedrockErrorName; readonly message?: string }
  /** `afterChunks` text deltas, then an exception frame; the HTTP response itself was a 200. */
  | {
      readonly kind: 'stream-exception';
      readonly afterChunks: number;
      readonly exception: BedrockStreamException;
      readonly reply?: string;
    }
  /** `afterChunks` text deltas, then the socket is destroyed. */
  | { readonly kind: 'cut-stream'; readonly afterChunks: number; readonly reply?: string }
  | { readonly kind: 'hang' };

export type ScriptedBedrockBehaviour = BedrockBehaviour & { readonly on?: BedrockEndpoint };

export interface BedrockRequest {
  readonly sequence: number;
  readonly endpoint: BedrockEndpoint | undefined;
  readonly path: string;
  /** The model id as it appeared in the path (decoded), for the runtime endpoints. */
  readonly modelId: string | undefined;
  /** The region of the SigV4 credential scope. */
  readonly region: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown> | undefined;
  status: number;
}

export interface FakeBedrock {
  readonly url: string;
  readonly requests: BedrockRequest[];
  script(...behaviours: ScriptedBedrockBehaviour[]): void;
  setDefault(behaviour: BedrockBehaviour): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeBedrockOptions {
  readonly reply?: string | ((request: BedrockRequest) => string);
  readonly echoCredentials?: boolean;
  /** Models that answer AccessDeniedException as if model access was never enabled for them. */
  readonly deniedModels?: readonly string[];
}

const ERROR_STATUS: Record<BedrockErrorName, number> = {
  AccessDeniedException: 403,
  ThrottlingException: 429,
  ValidationException: 400,
  ModelTimeoutException: 408,
  ServiceUnavailableException: 503,
  ResourceNotFoundException: 404,
  InternalServerException: 500,
};

const ERROR_MESSAGE: Record<BedrockErrorName, string> = {
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ServiceUnavailableException: 'Bedrock is unable to process your request.',
  ResourceNotFoundException: 'The model could not be found.',
  InternalServerException: 'The server encountered an internal error.',
};

const CREDENTIAL = /Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

export async function startFakeBedrock(options: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  const requests: BedrockRequest[] = [];
  const queue: ScriptedBedrockBehaviour[] = [];
  let standing: BedrockBehaviour = { kind: 'ok' };
  const sessions = new Set<Http2Session>();
  let sequence = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 'InternalServerException', String(error));
      else res.stream.close();
    });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const route = routeOf(req.method ?? 'GET', path);
    const credential = CREDENTIAL.exec(headers['authorization'] ?? '');
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const request: BedrockRequest = {
      sequence: ++sequence,
      endpoint: route?.endpoint,
      path,
      modelId: route?.modelId,
      region: credential?.[2],
      accessKeyId: credential?.[1],
      headers,
      body,
      status: 0,
    };
    requests.push(request);
    const fail = (name: BedrockErrorName, message?: string) => {
      request.status = ERROR_STATUS[name];
      const echoed = options.echoCredentials
        ? ` (request signed with ${headers['authorization'] ?? ''}; token ${headers['x-amz-security-token'] ?? ''})`
        : '';
      sendError(res, name, `${message ?? ERROR_MESSAGE[name]}${echoed}`);
    };
    if (!route) return fail('ResourceNotFoundException', `Unknown operation ${req.method} ${path}`);
    if (credential?.[3] !== 'bedrock') {
      request.status = 403;
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'UnrecognizedClientException:',
      });
      res.end(JSON.stringify({ message: 'The security token included in the request is invalid.' }));
      return;
    }
    if (!body) return fail('ValidationException', 'The request body is not JSON.');
    if (route.modelId && options.deniedModels?.includes(route.modelId)) return fail('AccessDeniedException');

    const index = queue.findIndex((b) => b.on === undefined || b.on === route.endpoint);
    const behaviour = index >= 0 ? queue.splice(index, 1)[0]! : standing;
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'error') return fail(behaviour.error, behaviour.message);
    const reply =
      ('reply' in behaviour ? behaviour.reply : undefined) ??
      (typeof options.reply === 'function' ? options.reply(request) : options.reply) ??
      DEFAULT_FAKE_REPLY;
    const invalid = validate(route.endpoint, route.modelId ?? '', body);
    if (invalid) return fail('ValidationException', invalid);

    request.status = 200;
    switch (route.endpoint) {
      case 'converse':
        return sendJson(res, 200, converseResponse(body, reply));
      case 'converse-stream':
        return streamConverse(res, body, reply, behaviour);
      case 'invoke':
        return sendJson(res, 200, await invokeModel(route.modelId ?? '', body));
      case 'rerank':
        return sendJson(res, 200, rerank(body));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...behaviours) => void queue.push(...behaviours),
    setDefault(behaviour) {
      standing = behaviour;
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      standing = { kind: 'ok' };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

function routeOf(method: string, path: string): { endpoint: BedrockEndpoint; modelId?: string } | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/rerank') return { endpoint: 'rerank' };
  const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
  if (!match) return undefined;
  return { endpoint: match[2] as BedrockEndpoint, modelId: decodeURIComponent(match[1]!) };
}

function validate(
  endpoint: BedrockEndpoint,
  modelId: string,
  body: Record<string, unknown>,
): string | undefined {
  if (endpoint === 'converse' || endpoint === 'converse-stream') {
    const messages = body['messages'];
    if (!Array.isArray(messages) || messages.length === 0)
      return 'messages: at least one message is required';
    if (messages[0]?.role !== 'user') return 'A conversation must start with a user message.';
    const config = body['inferenceConfig'] as { temperature?: number } | undefined;
    if (config?.temperature !== undefined && (config.temperature < 0 || config.temperature > 1)) {
      return 'temperature: must be between 0 and 1';
    }
    return undefined;
  }
  if (endpoint === 'invoke') {
    if (modelId.startsWith('amazon.titan-embed-text-v2')) {
      if (typeof body['inputText'] !== 'string' || body['inputText'] === '') return 'inputText is required';
      const dims = body['dimensions'];
      if (dims !== undefined && ![256, 512, 1024].includes(dims as number)) {
        return 'dimensions: must be one of 256, 512, 1024';
      }
      return undefined;
    }
    if (modelId.startsWith('cohere.embed')) {
      const texts = body['texts'];
      if (!Array.isArray(texts) || texts.length === 0) return 'texts: at least one text is required';
      if (texts.length > 96) return `texts: at most 96 texts per request, got ${texts.length}`;
      if (
        !['search_document', 'search_query', 'classification', 'clustering'].includes(
          String(body['input_type']),
        )
      ) {
        return 'input_type: must be search_document, search_query, classification or clustering';
      }
      return undefined;
    }
    return `The provided model identifier is invalid: ${modelId}`;
  }
  const sources = body['sources'];
  if (!Array.isArray(sources) || sources.length === 0) return 'sources: at least one source is required';
  if (sources.length > 1000) return 'sources: at most 1000';
  return undefined;
}

function promptTokens(body: Record<string, unknown>): number {
  const messages = (body['messages'] ?? []) as { content?: { text?: string }[] }[];
  const system = (body['system'] ?? []) as { text?: string }[];
  const text = [...system, ...messages.flatMap((m) => m.content ?? [])].map((b) => b.text ?? '').join('\n');
  return countTokens(text) + messages.length * 3;
}

function converseResponse(body: Record<string, unknown>, reply: string) {
  const inputTokens = promptTokens(body);
  const outputTokens = countTokens(reply);
  return {
    output: { message: { role: 'assistant', content: [{ text: reply }] } },
    stopReason: 'end_turn',
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    metrics: { latencyMs: 12 },
  };
}

function frame(headers: Message['headers'], payload: unknown): Uint8Array {
  return codec.encode({
    headers: { ':content-type': { type: 'string', value: 'application/json' }, ...headers },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload), 'utf8')),
  });
}

const eventFrame = (type: string, payload: object) =>
  frame(
    { ':event-type': { type: 'string', value: type }, ':message-type': { type: 'string', value: 'event' } },
    // Bedrock pads events with a `p` field so their sizes do not reveal the text.
    { ...payload, p: 'abcdefgh' },
  );

async function streamConverse(
  res: ServerResponse,
  body: Record<string, unknown>,
  reply: string,
  behaviour: Exclude<BedrockBehaviour, { kind: 'error' } | { kind: 'hang' }>,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': crypto.randomUUID(),
  });
  const delay = behaviour.kind === 'ok' ? (behaviour.chunkDelayMs ?? 0) : 0;
  const write = async (bytes: Uint8Array) => {
    if (res.stream.destroyed) return false;
    res.write(bytes);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    return !res.stream.destroyed;
  };
  const words = splitWords(reply);
  const limit = behaviour.kind === 'ok' ? words.length : behaviour.afterChunks;
  if (!(await write(eventFrame('messageStart', { role: 'assistant' })))) return;
  for (const text of words.slice(0, limit)) {
    if (!(await write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })))) return;
  }
  if (behaviour.kind === 'cut-stream') {
    // The connection breaks: the stream is reset, not ended.
    await new Promise((resolve) => setTimeout(resolve, 10));
    res.stream.close(2);
    return;
  }
  if (behaviour.kind === 'stream-exception') {
    const message = `${behaviour.exception} while generating the response.`;
    res.end(
      frame(
        {
          ':exception-type': { type: 'string', value: behaviour.exception },
          ':message-type': { type: 'string', value: 'exception' },
        },
        { message },
      ),
    );
    return;
  }
  const inputTokens = promptTokens(body);
  const outputTokens = countTokens(reply);
  await write(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
  await write(eventFrame('messageStop', { stopReason: 'end_turn' }));
  await write(
    eventFrame('metadata', {
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: 20 },
    }),
  );
  res.end();
}

const embedderBySize = new Map<number, ReturnType<typeof createOfflineEmbedder>>();

/** Vectors that follow the words of the text (an offline hashed embedder), so retrieval is meaningful. */
async function vectorsOf(texts: readonly string[], dimensions: number): Promise<number[][]> {
  let embedder = embedderBySize.get(dimensions);
  if (!embedder) {
    embedder = createOfflineEmbedder({ dimensions });
    embedderBySize.set(dimensions, embedder);
  }
  return (await embedder.embed(texts)).vectors;
}

async function invokeModel(modelId: string, body: Record<string, unknown>): Promise<object> {
  if (modelId.startsWith('amazon.titan-embed-text-v2')) {
    const text = String(body['inputText']);
    const dimensions = (body['dimensions'] as number | undefined) ?? 1024;
    const [vector] = await vectorsOf([text], dimensions);
    // The offline vectors are unit length already; Titan only normalizes when asked.
    const scale = body['normalize'] === false ? 3 : 1;
    const embedding = vector!.map((v) => v * scale);
    return { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: countTokens(text) };
  }
  const texts = (body['texts'] as string[]).map(String);
  const v4 = modelId.startsWith('cohere.embed-v4');
  const dimensions = v4 ? ((body['output_dimension'] as number | undefined) ?? 1536) : 1024;
  const vectors = await vectorsOf(texts, dimensions);
  const byType = v4 || Array.isArray(body['embedding_types']);
  return {
    id: crypto.randomUUID(),
    texts,
    ...(byType
      ? { embeddings: { float: vectors }, response_type: 'embeddings_by_type' }
      : { embeddings: vectors, response_type: 'embeddings_floats' }),
  };
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

function rerank(body: Record<string, unknown>): object {
  const queries = body['queries'] as { textQuery?: { text?: string } }[];
  const sources = body['sources'] as { inlineDocumentSource?: { textDocument?: { text?: string } } }[];
  const config = body['rerankingConfiguration'] as {
    bedrockRerankingConfiguration?: { numberOfResults?: number };
  };
  const query = words(queries[0]?.textQuery?.text ?? '');
  const scored = sources.map((source, index) => {
    const doc = words(source.inlineDocumentSource?.textDocument?.text ?? '');
    const shared = [...query].filter((w) => doc.has(w)).length;
    return { index, relevanceScore: query.size ? shared / query.size : 0 };
  });
  scored.sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
  const n = config?.bedrockRerankingConfiguration?.numberOfResults ?? scored.length;
  return { results: scored.slice(0, n) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, name: BedrockErrorName, message: string): void {
  res.writeHead(ERROR_STATUS[name], {
    'content-type': 'application/json',
    'x-amzn-requestid': crypto.randomUUID(),
    'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(JSON.stringify({ message }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
