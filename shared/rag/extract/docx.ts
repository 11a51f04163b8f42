import mammoth from 'mammoth';
import { ValidationError } from '../../domain/errors.ts';
import { checkDocxExpansion } from './docx-expansion.ts';
import type { ExtractLimits } from './limits.ts';

/** The text of a Word document (mammoth), paragraphs separated by blank lines. */
export async function extractDocxText(bytes: Uint8Array, limits: ExtractLimits): Promise<string> {
  await checkDocxExpansion(bytes, limits);
  try {
    const result = await mammoth.extractRawText({
      buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    });
    return result.value;
  } catch (error) {
    throw new ValidationError('The Word document could not be read: it is not a valid .docx file.', {
      cause: error,
    });
  }
}
