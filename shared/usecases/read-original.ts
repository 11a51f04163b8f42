import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DocumentLimitError, UnusableSourceError } from '../domain/errors.ts';
import type { BlobStore } from '../ports/blob-store.ts';

/** A stored original copied to a local file for extraction; `remove` deletes the copy (call it in finally). */
export interface OriginalFile {
  readonly path: string;
  readonly sizeBytes: number;
  readonly contentHash: string;
  remove(): Promise<void>;
}

/**
 * A stored original streamed from the blob store to a temporary file, its SHA-256 computed on the way, so the
 * process never holds the whole file (the ingest function's memory stays bounded whatever the upload's size;
 * the extraction worker reads the file itself). Refuses an object larger than `maxBytes` as soon as it passes
 * it, and leaves no file behind when it fails.
 */
export async function downloadOriginal(
  blobStore: BlobStore,
  key: string,
  expectedBytes: number,
  maxBytes: number,
  dir: string = tmpdir(),
  /** Stops the download (and removes the partial file) when aborted: the ingestion's deadline. */
  signal?: AbortSignal,
): Promise<OriginalFile> {
  const tooLarge = () =>
    new DocumentLimitError(`The file is larger than the limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES).`);
  if (expectedBytes > maxBytes) throw tooLarge();
  const stream = await blobStore.get(key);
  if (!stream) throw new UnusableSourceError('The uploaded file is no longer stored; upload it again.');
  const folder = await mkdtemp(join(dir, 'minirag-original-'));
  const remove = () => rm(folder, { recursive: true, force: true });
  const path = join(folder, 'original');
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) return done(tooLarge());
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(stream, hashing, createWriteStream(path, { mode: 0o600 }), signal ? { signal } : {});
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, sizeBytes, contentHash: hash.digest('hex'), remove };
}
