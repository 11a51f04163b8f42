import type { Citation } from '../domain/chat.ts';
import type { AnswerEvent, PreparedAnswer } from '../usecases/answering/answer-question.ts';
import { citationMarkers } from '../usecases/answering/citation-markers.ts';
import { citationJson, type collectAnswer } from './answer-json.ts';
import type { SseFrame } from './sse.ts';

const created = () => Math.floor(Date.now() / 1000);

/** Where a citation points: the source, with its first chunk as the fragment (no API origin is known here). */
export const citationUrl = (c: Citation) =>
  `minirag://sources/${c.sourceId}${c.chunkIds[0] ? `#${c.chunkIds[0]}` : ''}`;

/** A cited passage as a span of the answer text: its first `[n]` marker. */
export interface CitedSpan {
  readonly url: string;
  readonly title: string;
  readonly start_index: number;
  readonly end_index: number;
}

/** The citations an answer uses, in order of first use, with the span of their first marker. */
export function citedSpans(text: string, citations: readonly Citation[]): CitedSpan[] {
  const byNumber = new Map(citations.map((c) => [c.n, c]));
  return citationMarkers(text, Math.max(0, ...byNumber.keys())).flatMap((marker) => {
    const c = byNumber.get(marker.n);
    return c
      ? [{ url: citationUrl(c), title: c.title, start_index: marker.start, end_index: marker.end }]
      : [];
  });
}

/**
 * OpenAI's chat `url_citation` annotations: the field standard clients already surface (the AI SDK
 * turns them into `sources`), where our own `citations` field is dropped.
 */
const chatAnnotations = (text: string, citations: readonly Citation[]) =>
  citedSpans(text, citations).map((span) => ({ type: 'url_citation', url_citation: span }));

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
        message: {
          role: 'assistant',
          content: result.text,
          refusal: null,
          annotations: chatAnnotations(result.text, result.citations),
        },
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
 * stream from MiniRAG unchanged. Which passages an answer cites is known only at its end: the finishing
 * chunk carries them, as `delta.annotations` and in our `citations` field, the same ones a
 * non-streamed answer carries.
 */
export async function* openAiChunks(
  answer: PreparedAnswer,
  answerEvents: AsyncIterable<AnswerEvent>,
  model: string,
  includeUsage: boolean,
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
  const events = answerEvents[Symbol.asyncIterator]();
  try {
    // The route has already waited (briefly) for the provider: the role chunk goes out at once.
    yield chunk({ role: 'assistant', content: '' }, null);
    let usage: SseFrame | undefined;
    let text = '';
    for (let next = await events.next(); !next.done; next = await events.next()) {
      const event = next.value;
      if (event.type === 'delta') {
        text += event.text;
        yield chunk({ content: event.text }, null);
      }
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
      if (event.type === 'done') {
        const cited = answer.citations.filter((c) => event.cited.includes(c.n));
        yield chunk({ annotations: chatAnnotations(text, cited) }, 'stop', {
          citations: cited.map(citationJson),
        });
      }
    }
    if (usage) yield usage;
    yield { data: '[DONE]' };
  } finally {
    await events.return?.(undefined);
  }
}
