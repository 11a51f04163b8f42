import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/domain/errors.ts';
import { type Chunk, chunkText } from '#shared/rag/chunking/index.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { generateMixedCorpus } from '#test/fixtures/rag/mixed-corpus.ts';
import { type Random, seededRandom } from '#test/fixtures/seeded-random.ts';

const overlapStartsAfter = /[\s\u3002\uff01\uff1f\uff0c\u3001\uff1b\uff1a]/u;

/** Every guarantee chunkText documents, checked on one input. */
function checkChunks(text: string, chunks: Chunk[], maxTokens: number, overlapTokens: number): void {
  const covered = new Uint8Array(text.length);
  let previous: Chunk | undefined;
  for (const [index, chunk] of chunks.entries()) {
    expect(chunk.ordinal).toBe(index);
    expect(text.slice(chunk.startOffset, chunk.endOffset)).toBe(chunk.content);
    expect(chunk.content.length).toBeGreaterThan(0);
    expect(chunk.content).toBe(chunk.content.trim());
    expect(chunk.tokenCount).toBe(countTokens(chunk.content));
    expect(chunk.tokenCount).toBeLessThanOrEqual(maxTokens);
    // never inside a surrogate pair
    expect(chunk.content.charCodeAt(0) & 0xfc00).not.toBe(0xdc00);
    expect(chunk.content.charCodeAt(chunk.content.length - 1) & 0xfc00).not.toBe(0xd800);
    covered.fill(1, chunk.startOffset, chunk.endOffset);
    if (previous) {
      expect(chunk.startOffset).toBeGreaterThan(previous.startOffset);
      expect(chunk.endOffset).toBeGreaterThan(previous.endOffset);
      if (chunk.startOffset < previous.endOffset) {
        expect(countTokens(text.slice(chunk.startOffset, previous.endOffset))).toBeLessThanOrEqual(
          overlapTokens,
        );
        expect(text[chunk.startOffset - 1]).toMatch(overlapStartsAfter);
      }
    }
    previous = chunk;
  }
  for (let i = 0; i < text.length; i++) {
    if (!covered[i] && /\S/u.test(text[i] ?? ''))
      throw new Error(`character ${i} ${JSON.stringify(text[i])} is in no chunk`);
  }
}

const tricky = [
  ...'abc xyz THE of 42 3.14 ',
  ' ',
  '  ',
  '\n',
  '\n\n',
  '\t',
  '. ',
  '! ',
  '? ',
  "'s ",
  '"',
  '(',
  ')',
  '# ',
  '\n## Heading\n',
  '中文字符',
  '。',
  '，',
  '👍',
  '👨‍👩‍👧',
  'e\u0301',
  '\u00a0',
  '<|endoftext|>',
  'https://example.org/a?b=c',
  'supercalifragilisticexpialidocious',
  'नमस्ते दुनिया',
  'مرحبا بالعالم',
  'สวัสดีชาวโลก',
  '한국어 문장',
  'Ελληνικά ',
  '\u200b',
  '\u00ad',
  '\u2028',
  '\u3000',
];

function trickyText(random: Random, length: number): string {
  let text = '';
  while (text.length < length) text += tricky[Math.floor(random() * tricky.length)];
  return text;
}

describe('chunkText', () => {
  it('when chunking generated documents of many shapes then every guarantee holds', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = seededRandom(seed);
      const text = generateMixedCorpus(Math.floor(random() * 30_000), seed);
      const maxTokens = 16 + Math.floor(random() * 600);
      const overlapTokens = Math.floor(random() * (maxTokens / 2));
      checkChunks(text, chunkText(text, { maxTokens, overlapTokens }), maxTokens, overlapTokens);
    }
  });

  it('when chunking random mixes of tricky characters then every guarantee holds', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed * 7919);
      const text = trickyText(random, Math.floor(random() * 3000));
      const maxTokens = 8 + Math.floor(random() * 120);
      const overlapTokens = Math.floor(random() * maxTokens);
      checkChunks(text, chunkText(text, { maxTokens, overlapTokens }), maxTokens, overlapTokens);
    }
  });

  it('when the same text is chunked twice then the chunks are identical', () => {
    const text = generateMixedCorpus(50_000, 3);
    expect(chunkText(text, { maxTokens: 200, overlapTokens: 30 })).toEqual(
      chunkText(text, { maxTokens: 200, overlapTokens: 30 }),
    );
  });

  it('when defaults are used then chunks hold at most 512 tokens', () => {
    const text = generateMixedCorpus(100_000, 5);
    const chunks = chunkText(text);
    checkChunks(text, chunks, 512, 64);
    expect(Math.max(...chunks.map((c) => c.tokenCount))).toBeGreaterThan(400);
  });

  it('when a paragraph is huge and has no sentence breaks then it is cut between words', () => {
    const random = seededRandom(9);
    const words = Array.from(
      { length: 20_000 },
      () => ['alpha', 'beta', 'gamma', 'delta'][Math.floor(random() * 4)],
    );
    const text = words.join(' ');
    const chunks = chunkText(text, { maxTokens: 100, overlapTokens: 10 });
    checkChunks(text, chunks, 100, 10);
    for (const chunk of chunks) {
      expect(text[chunk.startOffset - 1] ?? ' ').toBe(' ');
      expect(text[chunk.endOffset] ?? ' ').toBe(' ');
    }
  });

  it('when one word is 10,000 characters long then it is cut between tokens into chunks that fit', () => {
    const random = seededRandom(4);
    const word = Array.from({ length: 10_000 }, () =>
      String.fromCharCode(97 + Math.floor(random() * 26)),
    ).join('');
    const text = `before ${word} after`;
    const chunks = chunkText(text, { maxTokens: 128, overlapTokens: 16 });
    checkChunks(text, chunks, 128, 16);
    expect(chunks.length).toBeGreaterThan(10);
  });

  it('when text is CJK without spaces then it is cut at sentence ends and never inside a character', () => {
    const text = '我们在北京讨论了检索增强生成。这个系统把文档切成小块，然后计算向量！'.repeat(300);
    const chunks = chunkText(text, { maxTokens: 64, overlapTokens: 8 });
    checkChunks(text, chunks, 64, 8);
    expect(chunks.filter((c) => /[。！]$/u.test(c.content)).length).toBeGreaterThan(chunks.length * 0.8);
  });

  it('when text is emoji, ZWJ sequences and combining marks then pairs and marks stay whole', () => {
    const text = '👍🇫🇷👨‍👩‍👧 e\u0301\u0301 '.repeat(2000) + 'x\u0301'.repeat(5000);
    const chunks = chunkText(text, { maxTokens: 50, overlapTokens: 5 });
    checkChunks(text, chunks, 50, 5);
    for (const chunk of chunks) expect(chunk.content).not.toMatch(/^\p{M}/u);
  });

  it('when a CJK run has no punctuation at all then it is cut between tokens', () => {
    const text = '检索增强生成系统文档向量'.repeat(2000);
    checkChunks(text, chunkText(text, { maxTokens: 100, overlapTokens: 0 }), 100, 0);
  });

  it('when paragraphs fit and there is no overlap then every chunk ends at a paragraph end', () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) =>
      `Paragraph ${i} says something. `.repeat(1 + (i % 7)).trim(),
    );
    const text = paragraphs.join('\n\n');
    const chunks = chunkText(text, { maxTokens: 120, overlapTokens: 0 });
    checkChunks(text, chunks, 120, 0);
    for (const chunk of chunks) expect(paragraphs).toContain(chunk.content.split('\n\n').at(-1));
  });

  it('when sections fit and there is no overlap then every chunk starts at a heading', () => {
    const section = (i: number) => `## Section ${i}\n\n${'A sentence about the section. '.repeat(20).trim()}`;
    const text = Array.from({ length: 20 }, (_, i) => section(i)).join('\n\n');
    const chunks = chunkText(text, { maxTokens: 250, overlapTokens: 0 });
    checkChunks(text, chunks, 250, 0);
    for (const chunk of chunks) expect(chunk.content.startsWith('## Section')).toBe(true);
  });

  it('when chunks overlap then the overlap is close to the requested size', () => {
    const text = generateMixedCorpus(60_000, 21);
    const chunks = chunkText(text, { maxTokens: 300, overlapTokens: 50 });
    const overlaps = chunks
      .slice(1)
      .map((chunk, i) =>
        countTokens(text.slice(chunk.startOffset, Math.max(chunk.startOffset, chunks[i]?.endOffset ?? 0))),
      );
    const average = overlaps.reduce((sum, n) => sum + n, 0) / overlaps.length;
    expect(average).toBeGreaterThan(25);
    expect(Math.max(...overlaps)).toBeLessThanOrEqual(50);
  });

  it('when the text contains special-token text then it is counted as plain text', () => {
    const chunks = chunkText('Before <|endoftext|> after <|im_start|> end.', {
      maxTokens: 8,
      overlapTokens: 0,
    });
    expect(chunks.map((c) => c.content).join(' ')).toContain('endoftext');
  });

  it('when the text is empty or whitespace then there are no chunks', () => {
    expect(chunkText('')).toEqual([]);
    expect(chunkText(' \n\n\t ')).toEqual([]);
  });

  it('when the options are impossible then a ValidationError says so', () => {
    expect(() => chunkText('x', { maxTokens: 4 })).toThrow(ValidationError);
    expect(() => chunkText('x', { maxTokens: 100, overlapTokens: 100 })).toThrow(ValidationError);
    expect(() => chunkText('x', { maxTokens: 100, overlapTokens: -1 })).toThrow(ValidationError);
    expect(() => chunkText('x', { maxTokens: 10.5 })).toThrow(ValidationError);
  });
});
