/**
 * The whole sentences of a retrieved passage that can be quoted. A passage is one or more chunks (merged
 * ones are joined by a "…" line), and a chunk may begin or end inside a sentence: a first sentence that
 * starts in lower case, or a last one with no closing punctuation, is a fragment and is never quoted. A
 * line with no sentence punctuation (a list item, a table row) is quoted only as the whole line.
 */
const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Ends like a sentence: . ! ? or … possibly followed by closing quotes or brackets. */
const SENTENCE_END = /[.!?…。！？]["'”’)\]]*$/u;
/** Begins where no sentence begins: a lower-case letter or trailing punctuation of the previous one. */
const MID_SENTENCE_START = /^[\p{Ll},;:)\]]/u;
const CHUNK_SEPARATOR = '…';

export function quotableSentences(content: string): string[] {
  const lines = content.split('\n').map((line) => line.replace(/\s+/g, ' ').trim());
  const quotable: string[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === CHUNK_SEPARATOR || !/[\p{L}\p{N}]/u.test(line)) continue;
    // Where a chunk starts or ends, the text may have been cut.
    const chunkStart = index === 0 || lines[index - 1] === CHUNK_SEPARATOR;
    const chunkEnd = index === lines.length - 1 || lines[index + 1] === CHUNK_SEPARATOR;
    const sentences = [...segmenter.segment(line)].map((s) => s.segment.trim()).filter(Boolean);
    for (const [position, sentence] of sentences.entries()) {
      if (chunkStart && position === 0 && MID_SENTENCE_START.test(sentence)) continue;
      if (SENTENCE_END.test(sentence)) quotable.push(sentence);
      else if (sentences.length === 1 && !chunkEnd) quotable.push(sentence);
    }
  }
  // A Markdown heading names a section; it is not an answer. Quote one only if nothing else is there.
  const prose = quotable.filter((s) => !/^#{1,6}\s/.test(s));
  return prose.length > 0 ? prose : quotable;
}
