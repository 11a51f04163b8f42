/**
 * The whole sentences of a retrieved passage that can be quoted. A passage is one or more chunks (merged
 * ones are joined by a "…" line), and a chunk may begin or end inside a sentence: a first sentence that
 * starts in lower case, or a last one with no closing punctuation, is a fragment and is never quoted. A
 * wrapped line that carries on the sentence before it is read with it (writers wrap prose, and a sentence
 * runs on across the break); a heading, list item, table row or quote is a block of its own. A block with
 * no sentence punctuation is quoted only whole.
 */
const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Ends like a sentence: . ! ? or … possibly followed by closing quotes or brackets. */
const SENTENCE_END = /[.!?…。！？]["'”’)\]]*$/u;
/** Begins where no sentence begins: a lower-case letter or trailing punctuation of the previous one. */
const MID_SENTENCE_START = /^[\p{Ll},;:)\]]/u;
const CHUNK_SEPARATOR = '…';
/** A Markdown line that stands on its own: a heading, a list item, a table row or a quote. */
const OWN_LINE = /^(#{1,6}\s|[-*+]\s|\d+[.)]\s|\||>)/;

/**
 * Whether `line` carries on the sentence of the line before it: the line before did not end a sentence, and
 * this one starts in lower case or the one before broke off after a comma or semicolon. Text without
 * punctuation (lines extracted from a PDF, say) is not run into the sentences around it.
 */
function continues(previous: string | undefined, line: string): boolean {
  if (previous === undefined || SENTENCE_END.test(previous)) return false;
  return /^\p{Ll}/u.test(line) || /[,;]$/.test(previous);
}

/** The passage's blocks (paragraphs joined into one line, standalone lines) and the chunk separators. */
function blocksOf(content: string): string[] {
  const blocks: string[] = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    // Lines are read as one text only when it ends a sentence; lines that never do (unpunctuated text)
    // stay lines of their own, each quoted only whole.
    if (SENTENCE_END.test(paragraph.at(-1) ?? '')) blocks.push(paragraph.join(' '));
    else blocks.push(...paragraph);
    paragraph = [];
  };
  for (const raw of content.split('\n')) {
    const line = raw.replace(/\s+/g, ' ').trim();
    if (line === '' || line === CHUNK_SEPARATOR || OWN_LINE.test(line)) {
      endParagraph();
      if (line !== '') blocks.push(line);
    } else {
      if (!continues(paragraph.at(-1), line)) endParagraph();
      paragraph.push(line);
    }
  }
  endParagraph();
  return blocks;
}

export function quotableSentences(content: string): string[] {
  const blocks = blocksOf(content);
  const quotable: string[] = [];
  for (const [index, line] of blocks.entries()) {
    if (line === CHUNK_SEPARATOR || !/[\p{L}\p{N}]/u.test(line)) continue;
    // Where a chunk starts or ends, the text may have been cut.
    const chunkStart = index === 0 || blocks[index - 1] === CHUNK_SEPARATOR;
    const chunkEnd = index === blocks.length - 1 || blocks[index + 1] === CHUNK_SEPARATOR;
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
