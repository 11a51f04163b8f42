import type { ApiClient, Page } from './api-client.ts';
import { ApiError } from './api-error.ts';
import type { BotJson, ChatJson, CitationJson } from './types.ts';

/** What the answer stream means to the CLI: text as it comes, then the sources and usage. */
export type AnswerEvent =
  | { readonly type: 'meta'; readonly messageId: string }
  | { readonly type: 'citations'; readonly citations: CitationJson[] }
  | { readonly type: 'delta'; readonly text: string }
  | {
      readonly type: 'usage';
      readonly inputTokens: number;
      readonly outputTokens: number;
      readonly costUsd: number;
      /** 'extractive' when no language model wrote the answer. */
      readonly provider: string;
      readonly model: string;
    }
  | { readonly type: 'done'; readonly cited: number[] }
  | { readonly type: 'error'; readonly detail: string; readonly status: number };

/**
 * The bot to talk to: the one asked for, else the tenant's first bot, else a new "Default bot" with
 * no provider (extractive answers: no LLM, no key).
 */
export async function resolveBot(
  client: ApiClient,
  botId: string | undefined,
): Promise<{ bot: BotJson; created: boolean }> {
  if (botId)
    return { bot: await client.get<BotJson>(`/v1/bots/${encodeURIComponent(botId)}`), created: false };
  const page = await client.get<Page<BotJson>>('/v1/bots', { query: { limit: 1 } });
  const first = page.data[0];
  if (first) return { bot: first, created: false };
  return { bot: await client.post<BotJson>('/v1/bots', { json: { name: 'Default bot' } }), created: true };
}

export function startChat(client: ApiClient, botId: string): Promise<ChatJson> {
  return client.post<ChatJson>('/v1/chats', { json: { bot_id: botId } });
}

/** Asks one question with `stream: true` and yields the answer's events as they arrive. */
export async function* ask(
  client: ApiClient,
  chatId: string,
  content: string,
  signal?: AbortSignal,
): AsyncGenerator<AnswerEvent> {
  for await (const frame of client.stream(
    `/v1/chats/${encodeURIComponent(chatId)}/messages`,
    { content, stream: true },
    signal,
  )) {
    const data = parse(frame.data);
    switch (frame.event) {
      case 'meta':
        yield { type: 'meta', messageId: String(data.message_id ?? '') };
        break;
      case 'citations':
        yield { type: 'citations', citations: (data.citations as CitationJson[] | undefined) ?? [] };
        break;
      case 'delta':
        yield { type: 'delta', text: String(data.text ?? '') };
        break;
      case 'usage':
        yield {
          type: 'usage',
          inputTokens: Number(data.input_tokens ?? 0),
          outputTokens: Number(data.output_tokens ?? 0),
          costUsd: Number(data.cost_usd ?? 0),
          provider: String(data.provider ?? ''),
          model: String(data.model ?? ''),
        };
        break;
      case 'done':
        yield { type: 'done', cited: (data.cited as number[] | undefined) ?? [] };
        break;
      case 'error':
        yield {
          type: 'error',
          detail: String(data.detail ?? 'The answer stream failed.'),
          status: Number(data.status ?? 500),
        };
        break;
      case 'json': {
        // A chat URL that buffers (API Gateway) answered the whole thing as JSON.
        const citations = (data.citations as CitationJson[] | undefined) ?? [];
        yield { type: 'meta', messageId: String(data.message_id ?? '') };
        yield { type: 'citations', citations };
        yield { type: 'delta', text: String(data.content ?? '') };
        yield { type: 'done', cited: citations.map((c) => c.n) };
        break;
      }
    }
  }
}

function parse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    throw new ApiError(502, { detail: 'The server sent an answer event that is not JSON.' });
  }
}
