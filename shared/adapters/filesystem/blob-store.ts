import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isOriginalBlobKey } from '../../domain/blob-key.ts';
import {
  ForbiddenError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../domain/errors.ts';
import type { BlobInfo, BlobStore, BlobUpload, PresignRequest } from '../../ports/blob-store.ts';

/** Where the local server takes uploads: `PUT {UPLOAD_PATH}{token}`. */
export const UPLOAD_PATH = '/v1/uploads/';

export interface FsBlobStoreOptions {
  /** The blobs directory (MINIRAG_DATA_DIR/blobs). */
  readonly dir: string;
  /** Signs upload tokens; a token is valid only with this key (the local server's JWT key). */
  readonly signingKey: string;
  readonly now?: () => number;
}

/** What an upload token grants: exactly one key, one size, one type, until `expiresAt` (epoch seconds). */
interface UploadGrant {
  readonly key: string;
  readonly sizeBytes: number;
  readonly contentType: string;
  readonly expiresAt: number;
}

export interface IncomingUpload {
  readonly body: ReadableStream<Uint8Array> | Readable | null;
  readonly contentType: string | undefined;
  /** The request's Content-Length header, when it has one (a chunked body has none). */
  readonly contentLength: string | undefined;
}

export interface FsBlobStore extends BlobStore {
  /** The directory the objects are kept in. */
  readonly dir: string;
  /**
   * Stores the body of `PUT {UPLOAD_PATH}{token}`: the token must be intact and unexpired, the type the
   * declared one, and the body exactly the declared size. It streams to a temporary file that is renamed
   * into place only when all of it arrived, so a refused or broken upload leaves nothing.
   */
  receiveUpload(token: string, upload: IncomingUpload): Promise<void>;
  /** Removes temporary files older than `olderThanMs` (uploads cut off by a crash). */
  sweepTemporary(olderThanMs: number): Promise<number>;
}

const TMP = '.tmp';
const PREFIX = /^tenants\/[0-9a-f-]{36}\/(sources\/[0-9a-f-]{36}\/)?$/;

/**
 * The BlobStore on the local disk, under MINIRAG_DATA_DIR/blobs: one file per key. Uploads go to a route of
 * the local server with an HMAC-signed token in the URL, the local twin of an S3 presigned PUT.
 */
export function createFsBlobStore(options: FsBlobStoreOptions): FsBlobStore {
  const { dir } = options;
  const now = options.now ?? Date.now;
  const tokenKey = createHmac('sha256', options.signingKey).update('minirag-upload-token').digest();
  const pathOf = (key: string) => {
    if (!isOriginalBlobKey(key)) throw new ValidationError('Not a blob key.');
    return join(dir, key);
  };
  const sign = (payload: string) => createHmac('sha256', tokenKey).update(payload).digest('base64url');

  async function writeAtomically(key: string, source: Readable, limit?: Transform): Promise<void> {
    const target = pathOf(key);
    await mkdir(join(dir, TMP), { recursive: true, mode: 0o700 });
    const temp = join(dir, TMP, `${randomBytes(12).toString('hex')}.part`);
    try {
      const file = createWriteStream(temp, { mode: 0o600 });
      await (limit ? pipeline(source, limit, file) : pipeline(source, file));
      await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  function readGrant(token: string): UploadGrant {
    const [payload, signature] = token.split('.');
    const expected = payload ? Buffer.from(sign(payload)) : undefined;
    const given = Buffer.from(signature ?? '');
    if (!expected || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new ForbiddenError(
        'The upload URL is not valid: request a new one with POST /v1/sources/uploads.',
      );
    }
    const grant = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as UploadGrant;
    if (grant.expiresAt * 1000 < now()) {
      throw new ForbiddenError(
        'The upload URL has expired: request a new one with POST /v1/sources/uploads.',
      );
    }
    return grant;
  }

  return {
    dir,
    async presignUpload(key: string, request: PresignRequest): Promise<BlobUpload> {
      pathOf(key);
      const expiresAt = Math.floor(now() / 1000) + request.expiresInSeconds;
      const grant: UploadGrant = {
        key,
        sizeBytes: request.sizeBytes,
        contentType: request.contentType,
        expiresAt,
      };
      const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
      return {
        method: 'PUT',
        url: `${UPLOAD_PATH}${payload}.${sign(payload)}`,
        headers: { 'content-type': request.contentType },
        expiresAt: new Date(expiresAt * 1000),
      };
    },

    async receiveUpload(token, upload) {
      const grant = readGrant(token);
      if ((upload.contentType ?? '') !== grant.contentType) {
        throw new UnsupportedMediaTypeError(
          `The upload must be sent with Content-Type: ${grant.contentType}, as declared.`,
        );
      }
      if (upload.contentLength !== undefined && Number(upload.contentLength) !== grant.sizeBytes) {
        const tooLarge = Number(upload.contentLength) > grant.sizeBytes;
        const message = `The body is ${upload.contentLength} bytes; ${grant.sizeBytes} were declared.`;
        throw tooLarge ? new PayloadTooLargeError(message) : new ValidationError(message);
      }
      if (!upload.body) throw new ValidationError('The upload has no body.');
      let received = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          received += chunk.length;
          if (received > grant.sizeBytes) {
            done(new PayloadTooLargeError(`The body is larger than the declared ${grant.sizeBytes} bytes.`));
          } else done(null, chunk);
        },
        flush(done) {
          done(
            received === grant.sizeBytes
              ? null
              : new ValidationError(
                  `The body is ${received} bytes; ${grant.sizeBytes} were declared. Nothing was stored.`,
                ),
          );
        },
      });
      const body =
        upload.body instanceof Readable
          ? upload.body
          : Readable.fromWeb(upload.body as import('node:stream/web').ReadableStream<Uint8Array>);
      await writeAtomically(grant.key, body, limit);
    },

    async put(key, body, _contentType) {
      await writeAtomically(key, Readable.from([body]));
    },

    async head(key): Promise<BlobInfo | undefined> {
      const info = await stat(pathOf(key)).catch(() => undefined);
      return info?.isFile() ? { sizeBytes: info.size, contentType: undefined } : undefined;
    },

    async get(key) {
      const path = pathOf(key);
      const info = await stat(path).catch(() => undefined);
      return info?.isFile() ? createReadStream(path) : undefined;
    },

    async retain(key) {
      // Unfinished uploads are removed by the sweep, which goes by the source's state, not by the file.
      pathOf(key);
    },

    async deletePrefix(prefix) {
      if (!PREFIX.test(prefix)) throw new ValidationError('Not a blob prefix.');
      await rm(join(dir, prefix), { recursive: true, force: true });
    },

    async sweepTemporary(olderThanMs) {
      const tmp = join(dir, TMP);
      const names = await readdir(tmp).catch(() => [] as string[]);
      let removed = 0;
      for (const name of names) {
        const info = await stat(join(tmp, name)).catch(() => undefined);
        if (info && now() - info.mtimeMs > olderThanMs) {
          await rm(join(tmp, name), { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}
