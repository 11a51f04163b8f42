import { getDocumentProxy } from 'unpdf';
import { DocumentLimitError, ValidationError } from '../../domain/errors.ts';
import { type ExtractLimits, tooMuchText } from './limits.ts';
import { checkPdfStreams } from './pdf-streams.ts';

function readableReason(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return 'it is password-protected';
  if (name === 'InvalidPDFException') return 'it is not a valid PDF file';
  return 'it is damaged or uses features MiniRAG cannot read';
}

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

/** One page's text as unpdf's extractText gives it: the runs, a newline where a line ends. */
async function pageText(document: PdfDocument, pageNumber: number): Promise<string> {
  const page = await document.getPage(pageNumber);
  const content = await page.getTextContent();
  return content.items
    .filter((item) => 'str' in item && item.str != null)
    .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
    .join('');
}

/**
 * The text of every page (pdf.js, pure JavaScript), pages separated by blank lines. Pages are read one at a
 * time, so the page and character limits stop a huge document early instead of after all of it is in memory.
 */
export async function extractPdfText(bytes: Uint8Array, limits: ExtractLimits): Promise<string> {
  checkPdfStreams(bytes, limits);
  const pages: string[] = [];
  try {
    // A copy: pdf.js may detach the buffer it is given, and the caller still owns `bytes`.
    const document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      if (document.numPages > limits.maxPages) {
        throw new DocumentLimitError(
          `The PDF has ${document.numPages.toLocaleString('en-US')} pages; MiniRAG reads at most ${limits.maxPages.toLocaleString('en-US')}. Split it into smaller documents.`,
        );
      }
      let chars = 0;
      for (let n = 1; n <= document.numPages; n++) {
        const text = (await pageText(document, n)).trim();
        chars += text.length;
        if (chars > limits.maxChars) throw tooMuchText(limits);
        if (text) pages.push(text);
      }
    } finally {
      await document.destroy();
    }
  } catch (error) {
    if (error instanceof DocumentLimitError) throw error;
    throw new ValidationError(`The PDF could not be read: ${readableReason(error)}.`, { cause: error });
  }
  const text = pages.join('\n\n');
  if (!text) {
    throw new ValidationError(
      'The PDF contains no text that can be extracted (a scanned document needs OCR first, which MiniRAG does not do).',
    );
  }
  return text;
}
