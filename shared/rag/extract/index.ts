import { decodeText } from './decode-text.ts';
import type { DocumentType } from './document-type.ts';
import { extractDocxText } from './docx.ts';
import { extractHtmlText } from './html.ts';
import { extractPdfText } from './pdf.ts';

export { type DocumentType, detectSourceType, mediaTypeOf } from './document-type.ts';

export interface ExtractInput {
  readonly bytes: Uint8Array;
  readonly type: DocumentType;
  /** The declared media type, for its charset parameter. */
  readonly contentType?: string | undefined;
  readonly filename?: string | undefined;
}

/**
 * The plain text of a document, not yet normalised (see normalizeText). Unreadable input
 * throws ValidationError with a message meant for the person who supplied the file.
 */
export async function extractText(input: ExtractInput): Promise<string> {
  switch (input.type) {
    case 'text':
    case 'markdown':
      return decodeText(input.bytes, { contentType: input.contentType });
    case 'html':
      return extractHtmlText(decodeText(input.bytes, { contentType: input.contentType, html: true }));
    case 'pdf':
      return extractPdfText(input.bytes);
    case 'docx':
      return extractDocxText(input.bytes);
  }
}
