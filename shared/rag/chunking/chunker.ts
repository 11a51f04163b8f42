import { ValidationError } from '../../domain/errors.ts';
import { chooseOverlapStart } from './chunk-overlap.ts';
import { pieceBreaks } from './piece-breaks.ts';
import { scanPreTokens } from './pre-tokens.ts';
import { createSpanMeasure, type MeasuredSpan } from './span-measure.ts';
import { splitAtTokenBoundaries } from './token-boundaries.ts';

export interface Chunk {
  readonly ordinal: number;
  /** Always `text.slice(startOffset, endOffset)`, with no leading or trailing whitespace. */
  readonly content: string;
  /** UTF-16 offsets into the text given to `chunkText`. */
  readonly startOffset: number;
  readonly endOffset: number;
  /** Exact cl100k_base token count of `content`. */
  readonly tokenCount: number;
}

export interface ChunkOptions {
  readonly maxTokens?: number;
  readonly overlapTokens?: number;
}

/** Below this a chunk could not hold one character's worth of tokens plus any overlap. */
const smallestMaxTokens = 8;

function checkOptions(maxTokens: number, overlapTokens: number): void {
  if (!Number.isInteger(maxTokens) || maxTokens < smallestMaxTokens) {
    throw new ValidationError(`Chunk size must be a whole number of at least ${smallestMaxTokens} tokens`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    throw new ValidationError('Chunk overlap must be a whole number of tokens, smaller than the chunk size');
  }
}

/**
 * Splits text into chunks of at most `maxTokens` tokens (cl100k_base), preferring to cut at
 * headings, then blank lines, line breaks, sentences, words, and only as a last resort between
 * two tokens of one long word. Pieces are packed greedily; each chunk after the first starts
 * with up to `overlapTokens` tokens repeated from the end of the previous one, starting at a
 * word boundary (the overlap shrinks, down to nothing, when the next piece needs the room, and
 * there is none inside a single long word). Chunks cover every non-space character of the text,
 * in order; the same text and options always give the same chunks.
 *
 * Cost: one pass of the encoding's pre-tokenizer with cached per-pre-token counts (about the
 * cost of counting the text's tokens once), then array arithmetic.
 */
export function chunkText(text: string, options: ChunkOptions = {}): Chunk[] {
  const maxTokens = options.maxTokens ?? 512;
  const overlapTokens = options.overlapTokens ?? 64;
  checkOptions(maxTokens, overlapTokens);

  const preTokens = scanPreTokens(text, maxTokens);
  const breaks = pieceBreaks(preTokens, maxTokens);
  const measure = createSpanMeasure(preTokens);
  const { prefix } = preTokens;
  const total = preTokens.length;
  const chunks: Chunk[] = [];
  let emittedEnd = 0;
  const emit = (span: MeasuredSpan): void => {
    // Whitespace after the last chunk, or a run that added only whitespace to its overlap.
    if (span.end === span.start || span.end <= emittedEnd) return;
    emittedEnd = span.end;
    chunks.push({
      ordinal: chunks.length,
      content: text.slice(span.start, span.end),
      startOffset: span.start,
      endOffset: span.end,
      tokenCount: span.tokens,
    });
  };

  let covered = 0;
  let nextBreak = 0;
  let overlapStart: number | undefined;
  while (covered < total) {
    while ((breaks[nextBreak] ?? total) <= covered) nextBreak++;
    let start = overlapStart ?? covered;
    let lastBreak = nextBreak;
    while (
      lastBreak + 1 < breaks.length &&
      (prefix[breaks[lastBreak + 1] ?? total] ?? 0) - (prefix[start] ?? 0) <= maxTokens
    ) {
      lastBreak++;
    }
    let end = breaks[lastBreak] ?? total;
    let span = measure(start, end);
    // Pieces were packed by summed counts; the exact count of the trimmed chunk can differ at
    // its edges, so a chunk packed right up to the limit is shortened if it went over.
    while (span.tokens > maxTokens) {
      if (lastBreak > nextBreak) end = breaks[--lastBreak] ?? total;
      else if (start < covered) start = covered;
      else if (end - covered > 1) end--;
      else break;
      span = measure(start, end);
    }
    if (span.tokens > maxTokens) {
      // One pre-token whose trimmed form counts more than its untrimmed pieces did: only
      // reachable with pathological whitespace, cut it between tokens.
      for (const part of splitAtTokenBoundaries(text.slice(span.start, span.end), maxTokens)) {
        emit({ start: span.start + part.start, end: span.start + part.end, tokens: part.tokens });
      }
      overlapStart = undefined;
    } else {
      emit(span);
      const atBreak = end === breaks[lastBreak];
      const following = (atBreak ? breaks[lastBreak + 1] : breaks[lastBreak]) ?? total;
      overlapStart = chooseOverlapStart(preTokens, measure, {
        chunkStart: start,
        chunkEnd: end,
        textStart: span.start,
        budget: Math.min(overlapTokens, maxTokens - ((prefix[following] ?? 0) - (prefix[end] ?? 0))),
      });
    }
    covered = end;
  }
  return chunks;
}
