// The playground's client of the MiniRAG REST API (same origin as the page).

const TOKEN_KEY = 'minirag.token';

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

/** An error response: `message` is the problem document's `detail`. */
export class ApiError extends Error {
  constructor(status, problem) {
    // A problem document's detail; API Gateway's own errors carry only `message`.
    super(problem?.detail || problem?.title || problem?.message || `The server answered HTTP ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

async function errorOf(response) {
  let problem;
  try {
    problem = await response.json();
  } catch {
    problem = { detail: `The server answered HTTP ${response.status}.` };
  }
  return new ApiError(response.status, problem);
}

async function send(method, path, { json, form, query, signal, accept = 'application/json' } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null) url.searchParams.set(k, v);
  const headers = { accept };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  let body;
  if (form) body = form;
  else if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { detail: 'Cannot reach the MiniRAG server. Is it still running?' });
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export const api = {
  async get(path, query) {
    return (await send('GET', path, { query })).json();
  },
  async post(path, json) {
    return (await send('POST', path, { json })).json();
  },
  async patch(path, json) {
    return (await send('PATCH', path, { json })).json();
  },
  async upload(path, form) {
    return (await send('POST', path, { form })).json();
  },
  async delete(path) {
    await send('DELETE', path);
  },
  /** Every item of a paginated list. */
  async all(path, query = {}) {
    const items = [];
    let cursor;
    do {
      const page = await api.get(path, { ...query, limit: 100, cursor });
      items.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  },
  /**
   * POSTs and yields the Server-Sent Events of the response as they arrive ({ event, data }).
   * EventSource cannot POST, so this reads the body stream itself.
   */
  async *stream(path, json, signal) {
    const response = await send('POST', path, { json, signal, accept: 'text/event-stream' });
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      yield { event: 'json', data: await response.text() };
      return;
    }
    yield* parseSse(response.body);
  },
};

/** The event-stream format: `event:` and `data:` lines, frames separated by a blank line. */
export async function* parseSse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = done ? '' : lines.pop();
    for (const line of lines) {
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') event = v;
        else if (field === 'data') data.push(v);
      }
    }
    if (done) break;
  }
  if (data.length) yield { event: event || 'message', data: data.join('\n') };
}
