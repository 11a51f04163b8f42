import type { PreparedAnswer } from '../usecases/answering/answer-question.ts';
import { citationJson, type collectAnswer } from './answer-json.ts';
import type { SseFrame } from './sse.ts';

const created = () => Math.floor(Date.now() / 1000);

/** A non-streamed answer as OpenAI's `chat.completion` object, plus our `citations`. */
export function openAiCompletion(
  id: string,
  model: string,
  result: Awaited<ReturnType<typeof collectAnswer>>,
) {
  return {
    id: `chatcmpl-${id}`,
    object: 'chat.completion',
    created: created(),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: result.usage.inputTokens,
      completion_tokens: result.usage.outputTokens,
      total_tokens: result.usage.inputTokens + result.usage.outputTokens,
    },
    citations: result.citations.map(citationJson),
  };
}

/**
 * The answer as OpenAI `chat.completion.chunk` frames ending with `[DONE]`, so the official SDKs can
 * stream from MiniRAG unchanged. Citations ride on the first chunk in an extra field SDKs ignore.
 */
export async function* openAiChunks(
  answer: PreparedAnswer,
  model: string,
  includeUsage: boolean,
  signal: AbortSignal,
): AsyncGenerator<SseFrame> {
  const base = {
    id: `chatcmpl-${answer.messageId}`,
    object: 'chat.completion.chunk',
    created: created(),
    model,
  };
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null,
    extra: Record<string, unknown> = {},
  ) => ({
    data: JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      ...extra,
    }),
  });
  const events = answer.events(signal)[Symbol.asyncIterator]();
  try {
    // The first event (`meta`) means the provider has answered: only then does the first chunk go out.
    let next = await events.next();
    yield chunk({ role: 'assistant', content: '' }, null, { citations: answer.citations.map(citationJson) });
    let usage: SseFrame | undefined;
    for (; !next.done; next = await events.next()) {
      const event = next.value;
      if (event.type === 'delta') yield chunk({ content: event.text }, null);
      if (event.type === 'usage' && includeUsage) {
        // OpenAI sends usage in a last chunk with no choices, after the finish_reason chunk.
        usage = {
          data: JSON.stringify({
            ...base,
            choices: [],
            usage: {
              prompt_tokens: event.inputTokens,
              completion_tokens: event.outputTokens,
              total_tokens: event.inputTokens + event.outputTokens,
            },
          }),
        };
      }
      if (event.type === 'done') yield chunk({}, 'stop');
    }
    if (usage) yield usage;
    yield { data: '[DONE]' };
  } finally {
    await events.return?.(undefined);
  }
}
