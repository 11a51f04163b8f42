import { extractText as extractPdfPages, getDocumentProxy } from 'unpdf';
import { ValidationError } from '../../domain/errors.ts';

function readableReason(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return 'it is password-protected';
  if (name === 'InvalidPDFException') return 'it is not a valid PDF file';
  return 'it is damaged or uses features MiniRAG cannot read';
}

/** The text of every page (pdf.js, pure JavaScript), pages separated by blank lines. */
export async function extractPdfText(bytes: Uint8Array): Promise<string> {
  let pages: string[];
  try {
    // A copy: pdf.js may detach the buffer it is given, and the caller still owns `bytes`.
    const document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      pages = (await extractPdfPages(document, { mergePages: false })).text;
    } finally {
      await document.destroy();
    }
  } catch (error) {
    throw new ValidationError(`The PDF could not be read: ${readableReason(error)}.`, { cause: error });
  }
  const text = pages
    .map((page) => page.trim())
    .filter(Boolean)
    .join('\n\n');
  if (!text) {
    throw new ValidationError(
      'The PDF contains no text that can be extracted (a scanned document needs OCR first, which MiniRAG does not do).',
    );
  }
  return text;
}
