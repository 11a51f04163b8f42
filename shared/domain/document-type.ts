import { UnsupportedMediaTypeError } from './errors.ts';

/** The document formats MiniRAG can read (a URL source is fetched, then read as one of these). */
export type DocumentType = 'text' | 'markdown' | 'html' | 'pdf' | 'docx';

const byExtension: Record<string, DocumentType> = {
  txt: 'text',
  text: 'text',
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx',
};

const byMediaType: Record<string, DocumentType> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

const accepted = 'PDF, Word (.docx), HTML, Markdown or plain text';

/** The media type without parameters, lower-cased: "Text/HTML; charset=utf-8" → "text/html". */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The type of an uploaded file. The extension decides when it is one we know (browsers and
 * curl often send application/octet-stream); otherwise the declared media type does.
 */
export function detectSourceType(
  filename: string | undefined,
  contentType: string | undefined,
): DocumentType {
  const name = (filename ?? '').trim().toLowerCase();
  const dot = name.lastIndexOf('.');
  const extension = dot >= 0 ? name.slice(dot + 1) : '';
  const fromExtension = byExtension[extension];
  if (fromExtension) return fromExtension;
  const fromMediaType = byMediaType[mediaTypeOf(contentType)];
  if (fromMediaType) return fromMediaType;
  if (extension === 'doc') {
    throw new UnsupportedMediaTypeError(
      'Old Word files (.doc) cannot be read; save the document as .docx and upload that.',
    );
  }
  const what = extension ? `.${extension} files` : `files of type ${mediaTypeOf(contentType) || 'unknown'}`;
  throw new UnsupportedMediaTypeError(`MiniRAG cannot read ${what}; upload ${accepted}.`);
}
