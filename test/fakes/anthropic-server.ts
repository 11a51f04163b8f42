import { countTokens } from '#shared/rag/tokenizer.ts';
import {
  type ErrorKind,
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
  FakeServerOptions,
  RecordedRequest,
  ScriptedBehaviour,
} from './scripted-provider-server.ts';

export type AnthropicEndpoint = 'messages';
export type FakeAnthropic = FakeProviderServer<AnthropicEndpoint>;

/** The key the fake accepts unless `apiKey` says otherwise. */
export const FAKE_ANTHROPIC_API_KEY = 'sk-ant-fake-0123456789abcdef';

/** API versions at or after this one reject sampling parameters (temperature, top_p, top_k) with a 400. */
const NO_SAMPLING_FROM = '2026-10-21';

/**
 * A fake Anthropic Messages API on 127.0.0.1: `POST /v1/messages`, non-streaming JSON or the SSE event
 * sequence (message_start, content_block_start, ping, content_block_delta text_delta…,
 * content_block_stop, message_delta with the output usage, message_stop), with Anthropic's error JSON.
 * The key is accepted as `x-api-key` or as `Authorization: Bearer` (what SDK 1.x sends); an
 * `anthropic-version` header is required. `url` is the origin, ready for the SDK's `baseURL`.
 */
export function startFakeAnthropic(options: FakeServerOptions = {}): Promise<FakeAnthropic> {
  return startScriptedServer(anthropicDialect, {
    ...options,
    apiKey: options.apiKey === undefined ? FAKE_ANTHROPIC_API_KEY : options.apiKey,
  });
}

const ERRORS: Record<ErrorKind, { type: string; message: string }> = {
  invalid: { type: 'invalid_request_error', message: '' },
  'not-found': { type: 'not_found_error', message: 'Not found' },
  unauthorized: { type: 'authentication_error', message: 'invalid x-api-key' },
  forbidden: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  'rate-limited': {
    type: 'rate_limit_error',
    message: 'This request would exceed the rate limit for your organization of 50 requests per minute.',
  },
  'server-error': { type: 'api_error', message: 'Internal server error' },
};

const anthropicDialect: ProviderDialect<AnthropicEndpoint> = {
  urlSuffix: '',
  requestIdHeader: 'request-id',
  route: (method, path) => (method === 'POST' && path === '/v1/messages' ? 'messages' : undefined),
  presentedKey: (headers) =>
    headers['x-api-key'] || /^Bearer (.+)$/.exec(headers['authorization'] ?? '')?.[1],
  authorized(headers, apiKey) {
    const presented = anthropicDialect.presentedKey(headers);
    return presented !== undefined && presented !== '' && (apiKey === null || presented === apiKey);
  },
  invalid(_endpoint, body, headers) {
    const version = headers['anthropic-version'];
    if (!version) return 'anthropic-version: header is required';
    if (typeof body['model'] !== 'string') return 'model: Field required';
    if (!Number.isInteger(body['max_tokens'])) return 'max_tokens: Field required';
    const messages = body['messages'];
    if (!Array.isArray(messages) || messages.length === 0)
      return 'messages: at least one message is required';
    if (version >= NO_SAMPLING_FROM) {
      const sampling = ['temperature', 'top_p', 'top_k'].find((name) => name in body);
      if (sampling) return `${sampling}: Extra inputs are not permitted`;
    }
    return undefined;
  },
  errorBody(kind, request, detail) {
    const error = ERRORS[kind];
    // The 529 Anthropic sends when it is overloaded has its own error type.
    const type = kind === 'server-error' && request.status === 529 ? 'overloaded_error' : error.type;
    const message = type === 'overloaded_error' ? 'Overloaded' : detail || error.message;
    return { type: 'error', error: { type, message }, request_id: `req_fake_${request.sequence}` };
  },
  streamError: () => ({
    event: 'error',
    data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  }),
  respond,
};

async function respond(x: Exchange<AnthropicEndpoint>): Promise<void> {
  const model = String(x.body['model']);
  const inputTokens = promptTokens(x.body);
  const outputTokens = countTokens(x.reply);
  const usage = (output: number) => ({
    input_tokens: inputTokens,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    service_tier: 'standard',
  });
  const message = {
    id: `msg_fake${x.sequence}`,
    type: 'message',
    role: 'assistant',
    model,
    stop_sequence: null,
    stop_details: null,
    container: null,
  };

  if (x.body['stream'] !== true) {
    x.json(200, {
      ...message,
      content: [{ type: 'text', text: x.reply, citations: null }],
      stop_reason: 'end_turn',
      usage: usage(outputTokens),
    });
    return;
  }
  const events: [string, object][] = [
    [
      'message_start',
      { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: usage(1) } },
    ],
    [
      'content_block_start',
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } },
    ],
    ['ping', { type: 'ping' }],
    ...splitWords(x.reply).map((text): [string, object] => [
      'content_block_delta',
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
    ]),
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    [
      'message_delta',
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null, stop_details: null, container: null },
        usage: { output_tokens: outputTokens },
      },
    ],
    ['message_stop', { type: 'message_stop' }],
  ];
  const sse = x.sse();
  for (const [event, data] of events) if (!(await sse.send(JSON.stringify(data), event))) return;
  sse.end();
}

function promptTokens(body: JsonBody): number {
  const text = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content ?? ''));
  const messages = body['messages'] as { content?: unknown }[];
  return messages.reduce(
    (sum, m) => sum + countTokens(text(m.content)) + 3,
    countTokens(text(body['system'] ?? '')),
  );
}
