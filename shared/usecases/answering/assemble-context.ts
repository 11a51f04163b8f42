import type { Citation } from '../../domain/chat.ts';
import type { ContextPassage } from '../../ports/chat-model.ts';
import { countTokens } from '../../rag/tokenizer.ts';
import type { RetrievedChunk } from './retrieve-context.ts';

export interface AssembledContext {
  readonly passages: ContextPassage[];
  /** One per passage, same numbering: what `[n]` in the answer points at. */
  readonly citations: Citation[];
  readonly tokens: number;
  /** Each passage's tokens, same order. */
  readonly passageTokens: number[];
}

const SNIPPET_CHARS = 280;

/**
 * Numbers the retrieved chunks as sources [1]…[n] in rank order, within a token budget. Chunks of the
 * same source that overlap or touch (neighbouring ordinals share the chunker's overlap) are merged into
 * one passage so the model does not read the same sentences twice.
 */
export function assembleContext(chunks: readonly RetrievedChunk[], budgetTokens: number): AssembledContext {
  const groups: RetrievedChunk[][] = [];
  for (const chunk of chunks) {
    const neighbour = groups.find((g) =>
      g.some((c) => c.sourceId === chunk.sourceId && Math.abs(c.ordinal - chunk.ordinal) <= 1),
    );
    if (neighbour) neighbour.push(chunk);
    else groups.push([chunk]);
  }

  const passages: ContextPassage[] = [];
  const citations: Citation[] = [];
  const passageTokens: number[] = [];
  let tokens = 0;
  for (const group of groups) {
    const ordered = [...group].sort((a, b) => a.ordinal - b.ordinal);
    const content = mergeOverlapping(ordered);
    // A lone chunk's count was stored at ingest; only a merged passage (overlap dropped) is counted again.
    const cost = ordered.length === 1 ? ordered[0]!.tokenCount : countTokens(content);
    if (tokens + cost > budgetTokens) continue; // a smaller, later passage may still fit
    tokens += cost;
    passageTokens.push(cost);
    const n = passages.length + 1;
    const first = ordered[0]!;
    passages.push({ n, sourceId: first.sourceId, title: first.sourceTitle, content });
    citations.push({
      n,
      sourceId: first.sourceId,
      title: first.sourceTitle,
      ...(first.sourceUrl ? { url: first.sourceUrl } : {}),
      chunkIds: ordered.map((c) => c.id),
      startOffset: first.startOffset,
      endOffset: Math.max(...ordered.map((c) => c.endOffset)),
      snippet: content.length > SNIPPET_CHARS ? `${content.slice(0, SNIPPET_CHARS).trimEnd()}…` : content,
    });
  }
  return { passages, citations, tokens, passageTokens };
}

/** Joins chunks of one source in order, dropping the characters the next chunk repeats (offsets tell). */
function mergeOverlapping(ordered: readonly RetrievedChunk[]): string {
  let text = '';
  let end = -1;
  for (const chunk of ordered) {
    if (end < 0 || chunk.startOffset >= end) {
      text += (text ? '\n…\n' : '') + chunk.content;
    } else {
      text += chunk.content.slice(Math.min(end - chunk.startOffset, chunk.content.length));
    }
    end = Math.max(end, chunk.endOffset);
  }
  return text;
}
