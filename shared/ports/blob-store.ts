import type { Readable } from 'node:stream';

/**
 * Where the client sends a new object's bytes: a presigned S3 PUT in AWS, a route of the local server with a
 * signed token locally. `headers` must be sent exactly as given (the signature covers them).
 */
export interface BlobUpload {
  readonly method: 'PUT';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly expiresAt: Date;
}

export interface BlobInfo {
  readonly sizeBytes: number;
  readonly contentType: string | undefined;
}

export interface PresignRequest {
  readonly contentType: string;
  /** The exact size the object must have: the upload refuses more bytes, or fewer. */
  readonly sizeBytes: number;
  readonly expiresInSeconds: number;
}

/**
 * The BlobStore port: the originals of uploaded documents. Keys come from `shared/domain/blob-key.ts`
 * (`tenants/{tenant_id}/sources/{source_id}/v{version}/original`), built from the AuthContext's tenant only, so a
 * prefix is a tenant's or a source's whole storage. Writes are atomic: a reader sees the whole object or none.
 */
export interface BlobStore {
  /** A one-time place for a client to upload `key` directly, bypassing the API process. */
  presignUpload(key: string, request: PresignRequest): Promise<BlobUpload>;
  /** Stores bytes the process already holds (the small multipart upload). */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** Size and type of a stored object; undefined when there is none. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** The object's bytes as a stream; undefined when there is none. */
  get(key: string): Promise<Readable | undefined>;
  /**
   * The original now belongs to a source being ingested: exempt it from the expiry that removes uploads never
   * completed (S3: the upload's `minirag-upload=unfinished` tag is removed; the filesystem has no such expiry).
   */
  retain(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (a source's or a tenant's storage). */
  deletePrefix(prefix: string): Promise<void>;
}
