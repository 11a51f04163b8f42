/** The widget's side of the website routes (/v1/public): sessions, chats and streamed answers. */

export interface Session {
  readonly token: string;
  readonly expiresAt: number;
  readonly botName: string;
}

export interface Citation {
  readonly n: number;
  readonly title: string;
  readonly url: string | null;
}

export type AnswerEvent =
  | { type: 'citations'; citations: Citation[] }
  | { type: 'delta'; text: string }
  | { type: 'done'; cited: number[] }
  | { type: 'error'; message: string };

/** A refusal the widget words for the visitor. */
export class WidgetError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export class PublicApi {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  /** Every URL names the key: a browser's CORS preflight carries no Authorization, only the URL. */
  private url(path: string): string {
    return `${this.base}${path}?key=${encodeURIComponent(this.key)}`;
  }

  private async send(path: string, bearer: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      // The browser hides why (CORS refusal, offline): a refused preflight means this site is not allowed.
      throw new WidgetError('network', 0);
    }
    if (!res.ok) {
      let detail = '';
      try {
        detail = ((await res.json()) as { detail?: string }).detail ?? '';
      } catch {
        // not a problem document
      }
      const retry = Number(res.headers.get('retry-after'));
      throw new WidgetError(detail, res.status, Number.isFinite(retry) && retry > 0 ? retry : undefined);
    }
    return res;
  }

  async startSession(): Promise<Session> {
    const res = await this.send('/v1/public/sessions', this.key);
    const body = (await res.json()) as { token: string; expires_at: string; bot: { name: string } };
    return { token: body.token, expiresAt: Date.parse(body.expires_at), botName: body.bot.name };
  }

  async startChat(token: string): Promise<string> {
    const res = await this.send('/v1/public/chats', token, {});
    return ((await res.json()) as { id: string }).id;
  }

  /** Asks and yields the answer's events as they arrive (Server-Sent Events over fetch). */
  async *ask(
    token: string,
    chatId: string,
    content: string,
    signal: AbortSignal,
  ): AsyncGenerator<AnswerEvent> {
    const res = await this.send(
      `/v1/public/chats/${chatId}/messages`,
      token,
      { content, stream: true },
      signal,
    );
    if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // A server that cannot stream (an API that buffers) answers the whole thing as JSON.
      const body = (await res.json()) as { content: string; citations: Citation[] };
      yield { type: 'citations', citations: body.citations };
      yield { type: 'delta', text: body.content };
      yield { type: 'done', cited: body.citations.map((c) => c.n) };
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseFrame(frame);
        if (event) yield event;
      }
    }
  }
}

function parseFrame(frame: string): AnswerEvent | undefined {
  let name = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  const payload = JSON.parse(data.join('\n'));
  switch (name) {
    case 'citations':
      return { type: 'citations', citations: payload.citations };
    case 'delta':
      return { type: 'delta', text: payload.text };
    case 'done':
      return { type: 'done', cited: payload.cited ?? [] };
    case 'error':
      return { type: 'error', message: payload.detail ?? 'The answer was cut off.' };
    default:
      return undefined;
  }
}
