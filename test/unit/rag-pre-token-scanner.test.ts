import { describe, expect, it } from 'vitest';
import { createPreTokenScanner } from '#shared/rag/chunking/pre-token-scanner.ts';
import { createPreTokenPattern } from '#shared/rag/tokenizer.ts';
import { generateMixedCorpus } from '#test/fixtures/rag/mixed-corpus.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';

const alphabet = [
  ...'aZk09 7  \t\n\r\v\f\'"sStTlLvVrReEdDmM.,!?;:-_()[]{}<>|/\\#*@$%^&=+~`',
  'é',
  '中',
  '\u00a0',
  '\u2028',
  '\u3000',
  '👍',
  '\u0301',
  '٣',
  '\n\n',
  '  ',
  "'s",
  "'ll",
  ' 12345',
];

function scannerSplit(text: string): string[] {
  const endOf = createPreTokenScanner(text);
  const parts: string[] = [];
  for (let start = 0, end = 0; start < text.length; start = end) {
    end = endOf(start);
    parts.push(text.slice(start, end));
  }
  return parts;
}

function regexSplit(text: string): string[] {
  return [...text.matchAll(createPreTokenPattern())].map((match) => match[0]);
}

describe('pre-token scanner', () => {
  it('when given random text then it splits exactly as the encoding regex does', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const random = seededRandom(seed);
      const length = Math.floor(random() * 40);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(scannerSplit(text), JSON.stringify(text)).toEqual(regexSplit(text));
    }
  });

  it('when given a mixed document then it splits exactly as the encoding regex does', () => {
    const text = generateMixedCorpus(200_000, 11);
    expect(scannerSplit(text)).toEqual(regexSplit(text));
  });
});
