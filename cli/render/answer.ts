import type { AnswerEvent } from '../client/chat-session.ts';
import type { CitationJson } from '../client/types.ts';
import { bold, cyan, dim, red } from './style.ts';

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The numbered sources after an answer: the ones it cited (all retrieved ones if it cited none). */
export function citationLines(citations: readonly CitationJson[], cited: readonly number[]): string[] {
  const shown = cited.length > 0 ? citations.filter((c) => cited.includes(c.n)) : citations;
  if (shown.length === 0) return [];
  const width = Math.max(40, Math.min(process.stdout.columns ?? 100, 140) - 10);
  return [
    bold('Sources:'),
    ...shown.flatMap((c) => [
      `  ${cyan(`[${c.n}]`)} ${c.title}`,
      ...(c.snippet ? [`      ${dim(oneLine(c.snippet, width))}`] : []),
    ]),
  ];
}

/**
 * The line under an answer: its tokens and cost, or, when no language model ran (an extractive answer
 * quotes passages; its token counts would be the prompt an LLM would have read), just that.
 */
export function usageLine(usage: Extract<AnswerEvent, { type: 'usage' }>): string {
  if (usage.provider === 'extractive') return 'extractive, no model';
  return `${usage.inputTokens} in / ${usage.outputTokens} out tokens, $${usage.costUsd.toFixed(4)}`;
}

export interface RenderedAnswer {
  readonly text: string;
  readonly citations: CitationJson[];
  readonly cited: number[];
  readonly error?: string;
}

/**
 * Writes the answer's text to `write` as the deltas arrive, then its sources. Returns what was shown;
 * `error` is set when the stream ended with an `error` event (partial text is kept on screen).
 */
export async function renderAnswer(
  events: AsyncIterable<AnswerEvent>,
  write: (chunk: string) => void,
): Promise<RenderedAnswer> {
  let text = '';
  let citations: CitationJson[] = [];
  let cited: number[] = [];
  let error: string | undefined;
  let usage = '';
  for await (const event of events) {
    if (event.type === 'delta') {
      text += event.text;
      write(event.text);
    } else if (event.type === 'citations') citations = event.citations;
    else if (event.type === 'done') cited = event.cited;
    else if (event.type === 'usage') usage = usageLine(event);
    else if (event.type === 'error') error = event.detail;
  }
  write('\n');
  if (error) {
    write(`${red(`Error: ${error}`)}\n`);
    return { text, citations, cited, error };
  }
  const lines = citationLines(citations, cited);
  if (lines.length > 0) write(`\n${lines.join('\n')}\n`);
  if (usage) write(`${dim(usage)}\n`);
  return { text, citations, cited };
}
