import type { Citation } from '../domain/chat.ts';
import type { AnswerEvent } from '../usecases/answering/answer-question.ts';

export const citationJson = (c: Citation) => ({
  n: c.n,
  source_id: c.sourceId,
  title: c.title,
  url: c.url ?? null,
  chunk_ids: c.chunkIds,
  start_offset: c.startOffset,
  end_offset: c.endOffset,
  snippet: c.snippet,
});

/** The wire form (snake_case) of one orchestrator event: the SSE `data` of our own stream. */
export function answerEventJson(event: AnswerEvent): Record<string, unknown> {
  switch (event.type) {
    case 'meta':
      return { message_id: event.messageId, chat_id: event.chatId, bot_id: event.botId, query: event.query };
    case 'citations':
      return { citations: event.citations.map(citationJson) };
    case 'delta':
      return { text: event.text };
    case 'usage':
      return {
        input_tokens: event.inputTokens,
        output_tokens: event.outputTokens,
        cost_usd: event.costUsd,
        provider: event.provider,
        model: event.model,
      };
    case 'done':
      return { message_id: event.messageId, status: event.status, cited: event.cited };
  }
}

/** Runs the whole answer and collects it, for the non-streamed variants. */
export async function collectAnswer(events: AsyncIterable<AnswerEvent>) {
  let text = '';
  let citations: Citation[] = [];
  let usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, provider: '', model: '' };
  let cited: number[] = [];
  let messageId = '';
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'citations') citations = event.citations;
    else if (event.type === 'usage') usage = event;
    else if (event.type === 'done') {
      cited = event.cited;
      messageId = event.messageId;
    }
  }
  return { text, citations: citations.filter((c) => cited.includes(c.n)), usage, messageId, cited };
}
