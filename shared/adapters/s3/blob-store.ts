import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ValidationError } from '../../domain/errors.ts';
import type { BlobInfo, BlobStore, BlobUpload, PresignRequest } from '../../ports/blob-store.ts';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  readonly client?: S3Client;
}

/** S3's own limit on a presigned URL is 7 days; ours is a quarter of an hour. */
export const MAX_PRESIGN_SECONDS = 15 * 60;

/**
 * Both headers are signed, so the URL accepts only an object of exactly the declared size and type: a
 * client that sends a different Content-Length or Content-Type gets S3's 403 SignatureDoesNotMatch. (The
 * presigner leaves content-type unsigned unless it is named here.)
 */
export const SIGNED_UPLOAD_HEADERS = new Set(['content-type', 'content-length', 'x-amz-tagging']);

/**
 * Every direct upload carries this tag until ingestion takes the file; the bucket's lifecycle rule expires
 * objects that still carry it, so a file whose upload was never completed cannot outlive the rule.
 */
export const UNFINISHED_UPLOAD_TAG = { key: 'minirag-upload', value: 'unfinished' } as const;
const TAGGING = `${UNFINISHED_UPLOAD_TAG.key}=${UNFINISHED_UPLOAD_TAG.value}`;

const notFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

/**
 * The BlobStore on S3. Objects are encrypted by the bucket's default encryption (SSE-KMS under the stack's
 * key), so an upload needs no encryption headers of its own.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const client = options.client ?? new S3Client({});
  const Bucket = options.bucket;
  return {
    async presignUpload(key: string, request: PresignRequest): Promise<BlobUpload> {
      const expiresIn = Math.min(request.expiresInSeconds, MAX_PRESIGN_SECONDS);
      const command = new PutObjectCommand({
        Bucket,
        Key: key,
        ContentType: request.contentType,
        ContentLength: request.sizeBytes,
        Tagging: TAGGING,
      });
      const url = await getSignedUrl(client, command, {
        expiresIn,
        signableHeaders: SIGNED_UPLOAD_HEADERS,
        // Sent by the client as a header (the presigner would otherwise move it into the query string).
        unhoistableHeaders: new Set(['x-amz-tagging']),
      });
      return {
        method: 'PUT',
        url,
        headers: { 'content-type': request.contentType, 'x-amz-tagging': TAGGING },
        expiresAt: new Date(Date.now() + expiresIn * 1000),
      };
    },

    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.byteLength,
        }),
      );
    },

    async head(key): Promise<BlobInfo | undefined> {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { sizeBytes: out.ContentLength ?? 0, contentType: out.ContentType };
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },

    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        // In Node the SDK's body is an http.IncomingMessage: a Readable the caller streams from.
        return out.Body as Readable | undefined;
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },

    async retain(key) {
      await client.send(new DeleteObjectTaggingCommand({ Bucket, Key: key }));
    },

    async deletePrefix(prefix) {
      if (!/^tenants\/[^/]+\/(sources\/[^/]+\/)?$/.test(prefix))
        throw new ValidationError('Not a blob prefix.');
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },
  };
}
