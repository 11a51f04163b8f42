import type { Citation } from '../domain/chat.ts';
import type { AnswerEvent, PreparedAnswer } from '../usecases/answering/answer-question.ts';
import { citationJson, type collectAnswer } from './answer-json.ts';
import { citedSpans } from './openai-format.ts';
import type { SseFrame } from './sse.ts';

/**
 * The subset of OpenAI's Responses API that clients defaulting to it need (the AI SDK's
 * `provider(botId)`, LangChain's `useResponsesApi`): one assistant message with `output_text` whose
 * `url_citation` annotations are the cited passages, and usage.
 */

type Usage = { inputTokens: number; outputTokens: number };

const usageJson = (u: Usage) => ({
  input_tokens: u.inputTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: u.outputTokens,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: u.inputTokens + u.outputTokens,
});

const annotationsOf = (text: string, citations: readonly Citation[]) =>
  citedSpans(text, citations).map((span) => ({ type: 'url_citation', ...span }));

function messageItem(messageId: string, text: string, citations: readonly Citation[], done: boolean) {
  return {
    type: 'message',
    id: `msg_${messageId}`,
    status: done ? 'completed' : 'in_progress',
    role: 'assistant',
    content: done ? [{ type: 'output_text', text, annotations: annotationsOf(text, citations) }] : [],
  };
}

function responseJson(
  messageId: string,
  model: string,
  createdAt: number,
  finished?: { text: string; citations: readonly Citation[]; usage: Usage },
) {
  return {
    id: `resp_${messageId}`,
    object: 'response',
    created_at: createdAt,
    status: finished ? 'completed' : 'in_progress',
    model,
    output: finished ? [messageItem(messageId, finished.text, finished.citations, true)] : [],
    usage: finished ? usageJson(finished.usage) : null,
    // Ours, as on chat completions: the cited passages with their snippets.
    ...(finished ? { citations: finished.citations.map(citationJson) } : {}),
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A non-streamed answer as a `response` object. */
export function openAiResponse(model: string, result: Awaited<ReturnType<typeof collectAnswer>>) {
  return responseJson(result.messageId, model, now(), result);
}

/** The answer as Responses API stream events, from `response.created` to `response.completed`. */
export async function* openAiResponseEvents(
  answer: PreparedAnswer,
  answerEvents: AsyncIterable<AnswerEvent>,
  model: string,
): AsyncGenerator<SseFrame> {
  const createdAt = now();
  const itemId = `msg_${answer.messageId}`;
  let sequence = 0;
  const frame = (type: string, fields: Record<string, unknown>): SseFrame => ({
    event: type,
    data: JSON.stringify({ type, sequence_number: sequence++, ...fields }),
  });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };

  yield frame('response.created', { response: responseJson(answer.messageId, model, createdAt) });
  yield frame('response.output_item.added', {
    output_index: 0,
    item: messageItem(answer.messageId, '', [], false),
  });
  yield frame('response.content_part.added', {
    ...at,
    part: { type: 'output_text', text: '', annotations: [] },
  });
  let text = '';
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  // The stream's own list: an answerer that picked its sources up front has renumbered them.
  let listed = answer.citations;
  for await (const event of answerEvents) {
    if (event.type === 'citations') listed = event.citations;
    else if (event.type === 'delta') {
      text += event.text;
      yield frame('response.output_text.delta', { ...at, delta: event.text, logprobs: [] });
    } else if (event.type === 'usage') {
      usage = event;
    } else if (event.type === 'done') {
      const citations = listed.filter((c) => event.cited.includes(c.n));
      yield frame('response.output_text.done', { ...at, text, logprobs: [] });
      const annotations = annotationsOf(text, citations);
      for (const [index, annotation] of annotations.entries()) {
        yield frame('response.output_text.annotation.added', { ...at, annotation_index: index, annotation });
      }
      yield frame('response.content_part.done', {
        ...at,
        part: { type: 'output_text', text, annotations },
      });
      yield frame('response.output_item.done', {
        output_index: 0,
        item: messageItem(answer.messageId, text, citations, true),
      });
      yield frame('response.completed', {
        response: responseJson(answer.messageId, model, createdAt, { text, citations, usage }),
      });
    }
  }
}
