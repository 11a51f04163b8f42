import { describe, expect, it } from 'vitest';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { assembleContext } from '#shared/usecases/answering/assemble-context.ts';
import { citedNumbers } from '#shared/usecases/answering/citation-markers.ts';
import type { RetrievedChunk } from '#shared/usecases/answering/retrieve-context.ts';

/** A chunk as the chunker stores it: its token count is the tokenizer's count of its content. */
function chunk(sourceId: string, ordinal: number, content: string, startOffset: number): RetrievedChunk {
  return {
    id: `${sourceId}-${ordinal}`,
    sourceId,
    sourceVersion: 1,
    sourceTitle: `Title ${sourceId}`,
    ordinal,
    content,
    startOffset,
    endOffset: startOffset + content.length,
    tokenCount: countTokens(content),
    score: 1,
  };
}

describe('assembleContext', () => {
  it('when chunks come from different sources then they are numbered [1]…[n] in rank order', () => {
    const context = assembleContext(
      [chunk('b', 0, 'Pumps need priming.', 0), chunk('a', 3, 'Valves open at 12 bar.', 900)],
      1000,
    );
    expect(context.passages.map((p) => [p.n, p.sourceId, p.content])).toEqual([
      [1, 'b', 'Pumps need priming.'],
      [2, 'a', 'Valves open at 12 bar.'],
    ]);
    expect(context.citations.map((c) => c.chunkIds)).toEqual([['b-0'], ['a-3']]);
    expect(context.tokens).toBe(countTokens('Pumps need priming.') + countTokens('Valves open at 12 bar.'));
  });

  it('when neighbouring chunks of a source overlap then they become one passage without the repeat, counted as merged', () => {
    const text = 'The relief valve opens at 12 bar. It is checked every month by the night crew.';
    const first = chunk('a', 0, text.slice(0, 50), 0);
    const second = chunk('a', 1, text.slice(34), 34); // overlaps the first by 16 characters
    const context = assembleContext([second, first], 1000);
    expect(context.passages).toHaveLength(1);
    expect(context.passages[0]!.content).toBe(text);
    expect(context.citations[0]).toMatchObject({
      chunkIds: ['a-0', 'a-1'],
      startOffset: 0,
      endOffset: text.length,
    });
    expect(context.tokens).toBe(countTokens(text));
  });

  it('when a passage does not fit the budget then it is left out and a smaller later one still goes in', () => {
    const big = chunk('a', 0, 'word '.repeat(300).trim(), 0);
    const small = chunk('b', 0, 'A short passage.', 0);
    const context = assembleContext([chunk('c', 0, 'First.', 0), big, small], 40);
    expect(context.passages.map((p) => p.sourceId)).toEqual(['c', 'b']);
    expect(context.tokens).toBeLessThanOrEqual(40);
  });
});

describe('citedNumbers', () => {
  it('when an answer cites [2], [1, 3] and an unknown [9] then the known numbers come back in first-use order', () => {
    expect(citedNumbers('See [2]. Also [1, 3] and [2] again, not [9].', 3)).toEqual([2, 1, 3]);
  });
});
