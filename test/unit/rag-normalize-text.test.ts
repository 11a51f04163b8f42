import { describe, expect, it } from 'vitest';
import { normalizeText } from '#shared/rag/normalize-text.ts';

describe('normalizeText', () => {
  it('when spaces surround a newline then they are removed', () => {
    expect(normalizeText('one   \n   two')).toBe('one\ntwo');
  });

  it('when there are paragraph breaks then they are kept', () => {
    expect(normalizeText('first paragraph\n\nsecond paragraph')).toBe('first paragraph\n\nsecond paragraph');
  });

  it('when three or more newlines follow each other then they become one paragraph break', () => {
    expect(normalizeText('a\n\n\n\n\nb')).toBe('a\n\nb');
    expect(normalizeText('a\n  \n \n\nb')).toBe('a\n\nb');
  });

  it('when line endings are CRLF or CR then they become LF', () => {
    expect(normalizeText('a\r\nb\rc\r\n\r\nd')).toBe('a\nb\nc\n\nd');
  });

  it('when the text has NUL and other control characters then they are removed but tabs stay', () => {
    expect(normalizeText('a\u0000b\u0007c\u001Fd\u007Fe\u0085f\tg')).toBe('abcdef\tg');
  });

  it('when the text starts with a byte order mark then it is removed', () => {
    expect(normalizeText('\uFEFFhello')).toBe('hello');
  });

  it('when characters are decomposed then they are composed (NFC)', () => {
    expect(normalizeText('cafe\u0301')).toBe('caf\u00e9');
  });

  it('when a surrogate is unpaired then it becomes U+FFFD and pairs are kept', () => {
    expect(normalizeText('a\uD800b 👍 \uDC00')).toBe('a\uFFFDb 👍 \uFFFD');
  });

  it('when the text has surrounding whitespace then it is trimmed', () => {
    expect(normalizeText('\n\n  hello world \n')).toBe('hello world');
  });

  it('when spaces are inside a line then they are left alone', () => {
    expect(normalizeText('a  b')).toBe('a  b');
  });

  it('when the text is only whitespace then the result is empty', () => {
    expect(normalizeText(' \n\t\r\n ')).toBe('');
  });
});
