import { describe, expect, it } from 'vitest';
import { extractLimitsOf } from '#shared/composition/ingest-deps.ts';
import { loadConfig } from '#shared/config/load.ts';
import { DocumentLimitError } from '#shared/domain/errors.ts';
import { defaultExtractLimits, type ExtractLimits, extractText } from '#shared/rag/extract/index.ts';
import {
  makeDocxBomb,
  makeManyPagePdf,
  makeNestedHtml,
  makePdfStreamBomb,
} from '#test/fixtures/rag/bombs.ts';
import { makeDocx } from '#test/fixtures/rag/documents.ts';

const MB = 1024 * 1024;
const utf8 = (text: string) => new TextEncoder().encode(text);
const limits = (overrides: Partial<ExtractLimits>): ExtractLimits => ({
  ...defaultExtractLimits,
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<DocumentLimitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentLimitError);
  return error as DocumentLimitError;
}

/** Issue 13, findings 2–4: documents that cost far more to read than their size. */
describe('extractText limits', () => {
  describe('Word (zip bombs)', () => {
    it('when a .docx inflates a thousandfold then it is refused as a compression bomb before mammoth reads it', async () => {
      // 30 MB of document.xml in ~50 KB: mammoth alone takes about a gigabyte for it.
      const bomb = await makeDocxBomb(30 * MB);
      expect(bomb.byteLength).toBeLessThan(100_000);
      const error = await refusal(extractText({ bytes: bomb, type: 'docx' }));
      expect(error.message).toBe(
        'A part of the document expands more than 100 times when unpacked (a compression bomb), so MiniRAG does not read it.',
      );
      expect(error.retryable).toBe(false);
    });

    it('when one entry or the whole archive unpacks beyond its limit then the message names the size', async () => {
      const bomb = await makeDocxBomb(6 * MB);
      const noRatio = { maxCompressionRatio: 100_000 };
      expect(
        (
          await refusal(
            extractText({ bytes: bomb, type: 'docx' }, limits({ ...noRatio, maxEntryBytes: 4 * MB })),
          )
        ).message,
      ).toBe('A part of the document expands beyond 4 MB when unpacked, more than MiniRAG reads.');
      expect(
        (
          await refusal(
            extractText({ bytes: bomb, type: 'docx' }, limits({ ...noRatio, maxExpandedBytes: 5 * MB })),
          )
        ).message,
      ).toBe('The document expands beyond 5 MB when unpacked, more than MiniRAG reads.');
      // Within every limit the same document is read.
      const text = await extractText({ bytes: bomb, type: 'docx' }, limits(noRatio));
      expect(text.startsWith('Bomb')).toBe(true);
    });

    it('when reading needs more heap than the worker may have then it is refused and the process lives on', async () => {
      const bomb = await makeDocxBomb(16 * MB, 'paragraphs');
      const error = await refusal(
        extractText(
          { bytes: bomb, type: 'docx' },
          limits({ maxCompressionRatio: 100_000, maxEntryBytes: 100 * MB, maxHeapMb: 64 }),
        ),
      );
      expect(error.message).toBe(
        'Reading the document needs more than 64 MB of memory, more than MiniRAG allows one document.',
      );
      // The next document is read normally (by a fresh worker).
      expect(await extractText({ bytes: await makeDocx('After', ['the bomb']), type: 'docx' })).toContain(
        'the bomb',
      );
    }, 60_000);
  });

  describe('HTML (deep nesting)', () => {
    it('when a page nests 2,000 divs then it is refused at once with the default depth limit', async () => {
      const error = await refusal(extractText({ bytes: utf8(makeNestedHtml(2_000)), type: 'html' }));
      expect(error.message).toBe(
        'The page nests elements more than 256 levels deep, more than MiniRAG reads.',
      );
    });

    it('when a page nests 200,000 divs then the linear depth check refuses it (no stack overflow)', async () => {
      const error = await refusal(extractText({ bytes: utf8(makeNestedHtml(200_000)), type: 'html' }));
      expect(error.message).toMatch(/more than 256 levels deep/);
    });

    it('when a page is nested within the limit then it is read', async () => {
      const text = await extractText({ bytes: utf8(makeNestedHtml(50)), type: 'html' });
      expect(text).toContain('At the bottom of the nesting.');
    });

    it('when reading runs past the deadline then the worker is stopped and the document refused', async () => {
      // Without the depth limit Readability needs minutes for 2,000 levels; the deadline ends it.
      const error = await refusal(
        extractText(
          { bytes: utf8(makeNestedHtml(2_000)), type: 'html' },
          limits({ maxHtmlDepth: 100_000, timeoutMs: 1_000 }),
        ),
      );
      expect(error.message).toBe('Reading the document took longer than 1 s, so MiniRAG stopped.');
    });
  });

  describe('PDF (pages and stream bombs)', () => {
    it('when a PDF has more pages than the limit then it is refused before any page is read', async () => {
      const error = await refusal(extractText({ bytes: makeManyPagePdf(5_000), type: 'pdf' }));
      expect(error.message).toBe(
        'The PDF has 5,000 pages; MiniRAG reads at most 2,000. Split it into smaller documents.',
      );
      const small = await extractText({ bytes: makeManyPagePdf(3), type: 'pdf' }, limits({ maxPages: 3 }));
      expect(small.split('\n\n')).toHaveLength(3);
    });

    it('when a PDF stream inflates a thousandfold then it is refused before pdf.js decodes it', async () => {
      const bomb = await makePdfStreamBomb(20 * MB);
      expect(bomb.byteLength).toBeLessThan(100_000);
      const error = await refusal(extractText({ bytes: bomb, type: 'pdf' }));
      expect(error.message).toMatch(/expands more than 100 times when unpacked/);
      const total = await refusal(
        extractText(
          { bytes: bomb, type: 'pdf' },
          limits({ maxCompressionRatio: 100_000, maxExpandedBytes: 8 * MB }),
        ),
      );
      expect(total.message).toBe('The document expands beyond 8 MB when unpacked, more than MiniRAG reads.');
    });
  });

  it('when no EXTRACT_* variable is set then the configured limits are the documented defaults', () => {
    expect(extractLimitsOf(loadConfig({}))).toEqual(defaultExtractLimits);
    expect(
      extractLimitsOf(loadConfig({ EXTRACT_MAX_EXPANDED_MB: '8', EXTRACT_TIMEOUT_SECONDS: '5' })),
    ).toMatchObject({
      maxExpandedBytes: 8 * MB,
      timeoutMs: 5_000,
    });
    expect(() => loadConfig({ EXTRACT_MAX_HTML_DEPTH: '2' })).toThrow(/EXTRACT_MAX_HTML_DEPTH/);
  });

  it('when a document holds more text than the limit then it is refused', async () => {
    const error = await refusal(
      extractText({ bytes: utf8('word '.repeat(1_000)), type: 'text' }, limits({ maxChars: 4_000 })),
    );
    expect(error.message).toMatch(/^The document holds more than 4,000 characters of text/);
    const pdf = await refusal(
      extractText({ bytes: makeManyPagePdf(200), type: 'pdf' }, limits({ maxChars: 1_000 })),
    );
    expect(pdf.message).toMatch(/more than 1,000 characters/);
  });
});
