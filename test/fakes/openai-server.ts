import { countTokens } from '#shared/rag/tokenizer.ts';
import {
  type Exchange,
  type FakeProviderServer,
  type FakeServerOptions,
  type JsonBody,
  type ProviderDialect,
  splitWords,
  startScriptedServer,
} from './scripted-provider-server.ts';

export type {
  FailureBehaviour,
  FakeBehaviour,
  FakeProviderServer,
  FakeServerOptions,
  RecordedRequest,
  ScriptedBehaviour,
} from './scripted-provider-server.ts';

export type OpenAiEndpoint = 'chat' | 'embeddings';
export type FakeOpenAi = FakeProviderServer<OpenAiEndpoint>;

export interface FakeOpenAiOptions extends FakeServerOptions {
  /** Vector size when a request names none and the model's is unknown. Default 1536. */
  readonly embeddingDimensions?: number;
}

/** The key the fake accepts unless `apiKey` says otherwise. */
export const FAKE_OPENAI_API_KEY = 'sk-fake-openai-0123456789abcdef';

const NATIVE_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * A fake OpenAI API on 127.0.0.1: `POST /v1/chat/completions` (JSON, or `text/event-stream` chunks
 * ending in `data: [DONE]`, with the usage chunk when `stream_options.include_usage`) and
 * `POST /v1/embeddings` (float or base64 vectors from `fakeEmbedding`, with usage), in OpenAI's wire
 * format and error JSON. `url` is the base URL including `/v1`, ready for `baseURL`.
 */
export function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  return startScriptedServer(openAiDialect(options), {
    ...options,
    apiKey: options.apiKey === undefined ? FAKE_OPENAI_API_KEY : options.apiKey,
  });
}

/**
 * A deterministic, L2-normalised, float32-exact vector: a feature-hashed bag of the text's words, so
 * texts that share words are near each other and retrieval tests against the fake mean something.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const hash = fnv1a(word);
    const slot = hash % dimensions;
    vector[slot] = (vector[slot] ?? 0) + (hash & 0x8000_0000 ? -1 : 1);
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((x) => Math.fround(x / norm));
}

function openAiDialect(options: FakeOpenAiOptions): ProviderDialect<OpenAiEndpoint> {
  return {
    urlSuffix: '/v1',
    requestIdHeader: 'x-request-id',
    route(method, path) {
      if (method !== 'POST') return undefined;
      if (path === '/v1/chat/completions') return 'chat';
      if (path === '/v1/embeddings') return 'embeddings';
      return undefined;
    },
    presentedKey: (headers) => /^Bearer (.+)$/.exec(headers['authorization'] ?? '')?.[1],
    authorized(headers, apiKey) {
      const presented = /^Bearer (.+)$/.exec(headers['authorization'] ?? '')?.[1];
      return presented !== undefined && (apiKey === null || presented === apiKey);
    },
    invalid: (endpoint, body) => (endpoint === 'chat' ? invalidChat(body) : invalidEmbeddings(body)),
    errorBody(kind, request, detail) {
      const presented = (request.headers['authorization'] ?? '').replace(/^Bearer /, '');
      const error = {
        invalid: { message: detail, type: 'invalid_request_error', code: null },
        'not-found': {
          message: `Invalid URL (${request.method} ${request.path})`,
          type: 'invalid_request_error',
          code: null,
        },
        // OpenAI echoes a masked key; the fake echoes it whole, so a leak through an adapter cannot hide.
        unauthorized: {
          message: `Incorrect API key provided: ${presented}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
        forbidden: {
          message: 'Project does not have access to this model.',
          type: 'invalid_request_error',
          code: null,
        },
        'rate-limited': {
          message: 'Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.',
          type: 'requests',
          code: 'rate_limit_exceeded',
        },
        'server-error': {
          message: 'The server had an error while processing your request. Sorry about that!',
          type: 'server_error',
          code: null,
        },
      }[kind];
      return { error: { ...error, param: null } };
    },
    streamError: () => ({
      data: JSON.stringify({
        error: {
          message: 'The server had an error while processing your request.',
          type: 'server_error',
          param: null,
          code: null,
        },
      }),
    }),
    respond: (exchange) =>
      exchange.endpoint === 'chat' ? respondChat(exchange) : respondEmbeddings(exchange, options),
  };
}

function invalidChat(body: JsonBody): string | undefined {
  if (typeof body['model'] !== 'string') return 'you must provide a model parameter';
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    return "'messages' must contain at least one message.";
  if (body['stream_options'] != null && body['stream'] !== true) {
    return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
  }
  return undefined;
}

function invalidEmbeddings(body: JsonBody): string | undefined {
  if (typeof body['model'] !== 'string') return 'you must provide a model parameter';
  const input = body['input'];
  const inputs = typeof input === 'string' ? [input] : input;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    inputs.some((t) => typeof t !== 'string' || t === '')
  ) {
    return "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";
  }
  if (inputs.length > 2048) return `'$.input' is too long: ${inputs.length} items, at most 2048.`;
  const format = body['encoding_format'];
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    return `'${String(format)}' is not one of ['float', 'base64'] - 'encoding_format'`;
  }
  const dimensions = body['dimensions'];
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && (dimensions as number) > 0)) {
    return "Invalid value for 'dimensions': must be a positive integer.";
  }
  return undefined;
}

async function respondChat(x: Exchange<OpenAiEndpoint>): Promise<void> {
  const model = String(x.body['model']);
  const id = `chatcmpl-fake${x.sequence}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = (x.body['messages'] as { content?: unknown }[]).reduce(
    (sum, m) =>
      sum + countTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')) + 4,
    3,
  );
  const completionTokens = countTokens(x.reply);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const omitUsage = x.behaviour.kind === 'ok' && x.behaviour.omitUsage === true;
  const common = { id, created, model, service_tier: 'default', system_fingerprint: 'fp_fake' };

  if (x.body['stream'] !== true) {
    const message = { role: 'assistant', content: x.reply, refusal: null, annotations: [] };
    x.json(200, {
      ...common,
      object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
      ...(omitUsage ? {} : { usage }),
    });
    return;
  }
  const includeUsage =
    (x.body['stream_options'] as JsonBody | undefined)?.['include_usage'] === true && !omitUsage;
  const chunk = (delta: object, finishReason: string | null) =>
    JSON.stringify({
      ...common,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const sse = x.sse();
  const frames = [
    chunk({ role: 'assistant', content: '', refusal: null }, null),
    ...splitWords(x.reply).map((word) => chunk({ content: word }, null)),
    chunk({}, 'stop'),
    ...(includeUsage
      ? [JSON.stringify({ ...common, object: 'chat.completion.chunk', choices: [], usage })]
      : []),
    '[DONE]',
  ];
  for (const frame of frames) if (!(await sse.send(frame))) return;
  sse.end();
}

function respondEmbeddings(x: Exchange<OpenAiEndpoint>, options: FakeOpenAiOptions): void {
  const model = String(x.body['model']);
  const input = x.body['input'];
  const inputs = (typeof input === 'string' ? [input] : input) as string[];
  const requested = x.body['dimensions'];
  const dimensions =
    typeof requested === 'number'
      ? requested
      : (NATIVE_DIMENSIONS[model] ?? options.embeddingDimensions ?? 1536);
  const base64 = x.body['encoding_format'] === 'base64';
  const data = inputs.map((text, index) => {
    const vector = fakeEmbedding(text, dimensions);
    const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  if (x.behaviour.kind === 'ok' && x.behaviour.embeddingOrder === 'reversed') data.reverse();
  const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  x.json(200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
