export interface SseEvent {
  /** The `event:` field; `message` when the frame has none (as EventSource does). */
  readonly event: string;
  readonly data: string;
}

/**
 * The one text/event-stream reader of the code base (the CLI, the tests and the e2e suite use it; the
 * web client keeps its own small one). It follows the WHATWG rules the API needs: `event` and multi-line
 * `data` fields, comment lines ignored, frames ended by a blank line, CRLF or LF.
 */
export interface SseParser {
  /** Feeds more text; returns the events it completed. */
  push(text: string): SseEvent[];
  /**
   * The end of the stream: returns the last event if it was not followed by a blank line. A last line
   * without its line break is incomplete and dropped.
   */
  end(): SseEvent[];
}

export function createSseParser(): SseParser {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const take = (done: boolean): SseEvent[] => {
    const events: SseEvent[] = [];
    let newline = buffer.search(/\r?\n|\r/);
    while (newline >= 0) {
      // A CR at the very end may be the first half of a CRLF split across reads.
      if (!done && newline === buffer.length - 1 && buffer.endsWith('\r')) break;
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') {
        if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const raw = colon < 0 ? '' : line.slice(colon + 1);
        const value = raw.startsWith(' ') ? raw.slice(1) : raw;
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      newline = buffer.search(/\r?\n|\r/);
    }
    return events;
  };
  return {
    push(text) {
      buffer += text;
      return take(false);
    },
    end() {
      const events = take(true);
      buffer = '';
      if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n') });
      data = [];
      return events;
    },
  };
}

/** The events of a complete text/event-stream body (its last line is complete even without a line break). */
export function parseSseText(text: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(/[\r\n]$/.test(text) ? text : `${text}\n`), ...parser.end()];
}

/** Parses a text/event-stream body into events as the bytes arrive. */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const parser = createSseParser();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        yield* parser.push(decoder.decode());
        yield* parser.end();
        break;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
}
