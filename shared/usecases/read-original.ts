import { createHash } from 'node:crypto';
import { DocumentLimitError, UnusableSourceError } from '../domain/errors.ts';
import type { BlobStore } from '../ports/blob-store.ts';

/**
 * A stored original's bytes and SHA-256, read in one pass from the blob store's stream into one buffer of
 * the expected size (no growing copies), refusing an object larger than `maxBytes`.
 */
export async function readOriginal(
  blobStore: BlobStore,
  key: string,
  expectedBytes: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; contentHash: string }> {
  const stream = await blobStore.get(key);
  if (!stream) throw new UnusableSourceError('The uploaded file is no longer stored; upload it again.');
  const tooLarge = () =>
    new DocumentLimitError(`The file is larger than the limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES).`);
  if (expectedBytes > maxBytes) {
    stream.destroy();
    throw tooLarge();
  }
  const hash = createHash('sha256');
  let buffer = Buffer.allocUnsafe(expectedBytes);
  let length = 0;
  for await (const part of stream) {
    const chunk = part as Buffer;
    if (length + chunk.length > maxBytes) {
      stream.destroy();
      throw tooLarge();
    }
    if (length + chunk.length > buffer.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(maxBytes, Math.max(buffer.length * 2, length + chunk.length)),
      );
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    chunk.copy(buffer, length);
    length += chunk.length;
    hash.update(chunk);
  }
  return { bytes: buffer.subarray(0, length), contentHash: hash.digest('hex') };
}
