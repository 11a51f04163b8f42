import { parseSse } from '#shared/http/sse-parser.ts';
/** Plain-fetch helpers for the end-to-end suites: a tenant's calls, an SSE reader, source polling. */

export interface SourceRow {
  id: string;
  title: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
  error: string | null;
  chunk_count: number;
  version: number;
}

export class Http {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, expected: number[] = [200, 201, 202, 204]) {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(this.url + path, init);
    const text = await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    }
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  get = async <T>(path: string) => (await this.call<T>('GET', path)).body;
  post = async <T>(path: string, body?: unknown) => (await this.call<T>('POST', path, body)).body;

  upload(name: string, content: string, type = 'text/markdown') {
    const form = new FormData();
    form.append('file', new File([content], name, { type }));
    return this.call<SourceRow & { existing_source_id?: string }>('POST', '/v1/sources', form, [202, 409]);
  }

  async allSources(): Promise<SourceRow[]> {
    const all: SourceRow[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: SourceRow[]; next_cursor: string | null } = await this.get(
        `/v1/sources?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }
}

export async function createTenant(url: string, adminToken: string, slug: string): Promise<string> {
  const response = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Tenant ${slug}`, slug, owner_email: `owner@${slug}.example.com` }),
  });
  const body = (await response.json()) as { api_token: { token: string } };
  if (response.status !== 201)
    throw new Error(`tenant create answered ${response.status}: ${JSON.stringify(body)}`);
  return body.api_token.token;
}

export interface SseFrame {
  event: string;
  data: Record<string, unknown>;
  /** Milliseconds since the request was sent, when the frame's bytes arrived. */
  at: number;
}

/** Reads a text/event-stream response frame by frame, as the bytes arrive. */
export async function readSse(response: Response): Promise<SseFrame[]> {
  const started = Date.now();
  const frames: SseFrame[] = [];
  for await (const { event, data } of parseSse(response.body!)) {
    frames.push({ event, data: JSON.parse(data), at: Date.now() - started });
  }
  return frames;
}

/** Waits until every source is COMPLETED or FAILED; returns them. */
export async function settled(http: Http, expected: number, timeoutMs: number): Promise<SourceRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sources = await http.allSources().catch(() => undefined);
    if (
      sources &&
      sources.length >= expected &&
      sources.every((s) => s.status === 'COMPLETED' || s.status === 'FAILED')
    ) {
      return sources;
    }
    if (Date.now() > deadline) {
      const states = sources?.map((s) => `${s.title}:${s.status}`).join(', ');
      throw new Error(`sources did not settle in ${timeoutMs} ms: ${states}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
