import { parseSse, type SseEvent } from '#shared/http/sse-parser.ts';
import { ApiError, apiErrorFrom, ConnectionError } from './api-error.ts';

export interface ApiClientOptions {
  /** The REST API's base URL, e.g. http://localhost:8787 or the API Gateway URL. */
  readonly apiUrl: string;
  /** Where streamed answers are asked (the chat-stream function URL); the API URL when the same. */
  readonly chatUrl?: string | undefined;
  readonly token?: string | undefined;
  readonly fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  readonly json?: unknown;
  readonly form?: FormData;
  /** Use this bearer instead of the client's (the platform admin token). */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

export interface Page<T> {
  readonly data: T[];
  readonly next_cursor: string | null;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** A small typed client of the MiniRAG REST API: JSON in, JSON out, problem+json into ApiError. */
export class ApiClient {
  readonly apiUrl: string;
  readonly chatUrl: string;
  readonly token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.apiUrl = trimSlash(options.apiUrl);
    this.chatUrl = trimSlash(options.chatUrl ?? options.apiUrl);
    this.token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  withToken(token: string): ApiClient {
    return new ApiClient({ apiUrl: this.apiUrl, chatUrl: this.chatUrl, token, fetch: this.#fetch });
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, options);
  }

  patch<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PATCH', path, options);
  }

  delete(path: string, options: RequestOptions = {}): Promise<void> {
    return this.request<void>('DELETE', path, options);
  }

  /** Every item of a paginated list, following `next_cursor`. */
  async all<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<Page<T>>(path, { query: { ...query, limit: 100, cursor } });
      items.push(...page.data);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return items;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(this.apiUrl, method, path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * POSTs to the chat-stream URL and yields the Server-Sent Events as they arrive. An error before the
   * first byte is an ordinary problem response (thrown as ApiError); after it, an `error` event.
   */
  async *stream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<SseEvent> {
    const response = await this.#send(
      this.chatUrl,
      'POST',
      path,
      { json: body, signal },
      'text/event-stream',
    );
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !response.body) {
      // A deployment whose chat URL buffers (API Gateway) answers JSON: still a valid answer, as one event.
      yield { event: 'json', data: await response.text() };
      return;
    }
    yield* parseSse(response.body);
  }

  async #send(
    base: string,
    method: string,
    path: string,
    options: RequestOptions,
    accept = 'application/json',
  ): Promise<Response> {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept };
    const token = options.token ?? this.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, body, signal: options.signal });
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw error;
      throw new ConnectionError(base, error);
    }
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }
}

export { ApiError };
