import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DocumentLimitError, UnusableSourceError } from '#shared/domain/errors.ts';
import type { BlobStore } from '#shared/ports/blob-store.ts';
import { downloadOriginal } from '#shared/usecases/read-original.ts';

const KB = 1024;

/** A blob store holding one object, served in 64 KB parts; counts the parts it produced. */
function storeOf(bytes: Buffer | undefined) {
  const served = { parts: 0 };
  const store = {
    async get() {
      if (!bytes) return undefined;
      return Readable.from(
        (function* () {
          for (let at = 0; at < bytes.length; at += 64 * KB) {
            served.parts++;
            yield bytes.subarray(at, at + 64 * KB);
          }
        })(),
      );
    },
  } as unknown as BlobStore;
  return { store, served };
}

const bytesOf = (size: number) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31) & 0xff;
  return b;
};

describe('downloadOriginal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'originals-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('when an original is downloaded then it is a file with its bytes and SHA-256, gone after remove()', async () => {
    const bytes = bytesOf(3 * 1024 * KB + 5);
    const { store } = storeOf(bytes);
    const original = await downloadOriginal(store, 'k', bytes.length, 10 * 1024 * KB, dir);
    expect(original.sizeBytes).toBe(bytes.length);
    expect(original.contentHash).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await readFile(original.path)).equals(bytes)).toBe(true);
    expect(original.path.startsWith(dir)).toBe(true);
    await original.remove();
    expect(await readdir(dir)).toEqual([]);
  });

  it('when the object grows past the limit then it stops reading there, refuses it and leaves no file', async () => {
    const bytes = bytesOf(2 * 1024 * KB);
    const { store, served } = storeOf(bytes);
    // Declared small, but the stored object is larger than the limit.
    await expect(downloadOriginal(store, 'k', 100 * KB, 512 * KB, dir)).rejects.toThrow(DocumentLimitError);
    expect(served.parts).toBeLessThan(bytes.length / (64 * KB));
    expect(await readdir(dir)).toEqual([]);
  });

  it('when the declared size is over the limit then it is refused before anything is read', async () => {
    const { store, served } = storeOf(bytesOf(KB));
    await expect(downloadOriginal(store, 'k', 2 * KB, KB, dir)).rejects.toThrow(/larger than the limit/);
    expect(served.parts).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('when the ingestion deadline aborts a stalled download then it stops and leaves no file', async () => {
    const stalled = {
      async get() {
        let sent = false;
        return new Readable({
          read() {
            // The first part arrives, then nothing more: a stalled connection to the store.
            if (!sent) this.push(Buffer.alloc(64 * KB, 1));
            sent = true;
          },
        });
      },
    } as unknown as BlobStore;
    const started = Date.now();
    await expect(
      downloadOriginal(stalled, 'k', 1024 * KB, 10 * 1024 * KB, dir, AbortSignal.timeout(200)),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await readdir(dir)).toEqual([]);
  });

  it('when the object is gone then the reason says to upload it again, and no file is left', async () => {
    const { store } = storeOf(undefined);
    await expect(downloadOriginal(store, 'k', 10, KB, dir)).rejects.toThrow(UnusableSourceError);
    expect(await readdir(dir)).toEqual([]);
  });
});
