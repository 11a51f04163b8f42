import JSZip from 'jszip';
import { ValidationError } from '../../domain/errors.ts';
import { ExpansionBudget, type ExtractLimits } from './limits.ts';

/** JSZip keeps an entry's compressed size only on this internal field (stable across 3.x). */
function compressedSizeOf(entry: JSZip.JSZipObject): number | undefined {
  const data = (entry as unknown as { _data?: { compressedSize?: unknown } })._data;
  return typeof data?.compressedSize === 'number' ? data.compressedSize : undefined;
}

/**
 * Inflates every entry of a .docx once, counting bytes as they come and stopping at the first limit, before
 * mammoth reads it: mammoth (through the same JSZip) would inflate a part whole, and a 300 KB file can
 * hold a document.xml of gigabytes. The sizes the zip declares are not trusted; the bytes are counted.
 */
export async function checkDocxExpansion(bytes: Uint8Array, limits: ExtractLimits): Promise<void> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (error) {
    throw new ValidationError('The Word document could not be read: it is not a valid .docx file.', {
      cause: error,
    });
  }
  const budget = new ExpansionBudget(limits);
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    const compressedBytes = compressedSizeOf(entry) ?? bytes.byteLength;
    await new Promise<void>((resolve, reject) => {
      const part = { bytes: 0, compressedBytes };
      const stream = entry.nodeStream('nodebuffer');
      stream.on('data', (chunk: Buffer) => {
        part.bytes += chunk.length;
        try {
          budget.add(chunk.length, part);
        } catch (error) {
          // A paused stream stops asking JSZip for more, which stops the inflation.
          stream.pause();
          reject(error);
        }
      });
      stream.on('error', (error) =>
        reject(
          new ValidationError('The Word document could not be read: it is not a valid .docx file.', {
            cause: error,
          }),
        ),
      );
      stream.on('end', () => resolve());
    });
  }
}
