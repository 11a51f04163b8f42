import type { DocumentType } from '../../domain/document-type.ts';
import { DocumentLimitError } from '../../domain/errors.ts';
import { decodeText } from './decode-text.ts';
import { extractDocxText } from './docx.ts';
import { extractHtmlText } from './html.ts';
import { checkExtractedChars, type ExtractLimits } from './limits.ts';
import { extractPdfText } from './pdf.ts';

export interface ExtractInput {
  readonly bytes: Uint8Array;
  readonly type: DocumentType;
  /** The declared media type, for its charset parameter. */
  readonly contentType?: string | undefined;
  readonly filename?: string | undefined;
}

/** A document kept in a file (a downloaded original): whoever reads it loads the bytes itself. */
export interface FileExtractInput extends Omit<ExtractInput, 'bytes'> {
  readonly path: string;
}

/**
 * The plain text of a document, within `limits`, read on the calling thread. Only the extraction worker
 * (and plain text, which costs no more than its own size) calls this directly; everything else goes
 * through extractText, which isolates it.
 */
export async function readDocument(input: ExtractInput, limits: ExtractLimits): Promise<string> {
  try {
    return checkExtractedChars(await readByType(input, limits), limits);
  } catch (error) {
    // Deep recursion in a parser the nesting limit did not foresee: a property of the document.
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new DocumentLimitError('The document is nested too deeply to be read.', { cause: error });
    }
    throw error;
  }
}

function readByType(input: ExtractInput, limits: ExtractLimits): Promise<string> | string {
  switch (input.type) {
    case 'text':
    case 'markdown':
      return decodeText(input.bytes, { contentType: input.contentType });
    case 'html':
      return extractHtmlText(decodeText(input.bytes, { contentType: input.contentType, html: true }), limits);
    case 'pdf':
      return extractPdfText(input.bytes, limits);
    case 'docx':
      return extractDocxText(input.bytes, limits);
  }
}
