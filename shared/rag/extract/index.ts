import { readFile } from 'node:fs/promises';
import { decodeText } from './decode-text.ts';
import { checkExtractedChars, defaultExtractLimits, type ExtractLimits } from './limits.ts';
import type { ExtractInput, FileExtractInput } from './read-document.ts';
import { readInWorker } from './read-in-worker.ts';

export { type DocumentType, detectSourceType, mediaTypeOf } from '../../domain/document-type.ts';
export { defaultExtractLimits, type ExtractLimits } from './limits.ts';
export type { ExtractInput, FileExtractInput } from './read-document.ts';

/**
 * The plain text of a document, not yet normalised (see normalizeText). Unreadable input throws
 * ValidationError, a document beyond `limits` DocumentLimitError, each with a message meant for the person
 * who supplied the file. PDF, Word and HTML are read in a worker thread with a heap cap and a deadline, so
 * a hostile document costs that thread, never the process; plain text is only decoded, in place.
 */
export async function extractText(
  input: ExtractInput,
  limits: ExtractLimits = defaultExtractLimits,
): Promise<string> {
  // Plain text is only decoded, in place. The extractors (PDF, Word, HTML) live in read-document.ts, which
  // only the worker loads: a module that detects a document's type through this front door never does.
  if (input.type === 'text' || input.type === 'markdown') {
    return checkExtractedChars(decodeText(input.bytes, { contentType: input.contentType }), limits);
  }
  return readInWorker(input, limits);
}

/**
 * extractText for a document kept in a file: the extraction worker reads the file itself, so the calling
 * thread never holds a large PDF or Word file (plain text is read here; decoding it needs the bytes anyway).
 */
export async function extractFile(
  input: FileExtractInput,
  limits: ExtractLimits = defaultExtractLimits,
): Promise<string> {
  if (input.type === 'text' || input.type === 'markdown') {
    const bytes = await readFile(input.path);
    return checkExtractedChars(decodeText(bytes, { contentType: input.contentType }), limits);
  }
  return readInWorker(input, limits);
}
