import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createS3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { originalBlobKey, sourceBlobPrefix } from '#shared/domain/blob-key.ts';
import { asTenantId } from '#shared/domain/ids.ts';

const TENANT = asTenantId('11111111-1111-4111-8111-111111111111');
const SOURCE = '22222222-2222-4222-8222-222222222222';
const KEY = originalBlobKey(TENANT, SOURCE, 1);
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/**
 * SigV4 for a presigned URL, written out from the specification (not the SDK's signer), so the test checks
 * what S3 will check: the signature over the canonical request with the headers the client actually sends.
 */
function sigV4(url: URL, method: string, headers: Record<string, string>): string {
  const query = [...url.searchParams.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const signed = url.searchParams.get('X-Amz-SignedHeaders')!.split(';');
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonical = [
    method,
    url.pathname,
    query,
    signed.map((h) => `${h}:${lower[h]}\n`).join(''),
    signed.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const [day, region, service] = scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(day!).digest();
  for (const part of [region!, service!, 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('S3 blob store', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('when an upload is presigned then its signature covers content-length and content-type', async () => {
    const store = createS3BlobStore({
      bucket: 'minirag-blobs',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    const upload = await store.presignUpload(KEY, {
      contentType: 'application/pdf',
      sizeBytes: 62_914_560,
      expiresInSeconds: 900,
    });
    const url = new URL(upload.url);
    expect(upload.method).toBe('PUT');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host']),
    );
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-tagging');
    expect(url.searchParams.has('x-amz-tagging')).toBe(false);
    const sent = {
      host: url.host,
      'content-type': 'application/pdf',
      'content-length': '62914560',
      'x-amz-tagging': 'minirag-upload=unfinished',
    };
    const signature = url.searchParams.get('X-Amz-Signature');
    // The URL's own signature is reproduced from the headers the client must send…
    expect(sigV4(url, 'PUT', sent)).toBe(signature);
    // …and any other size or type gives another signature: S3 answers 403 SignatureDoesNotMatch.
    expect(sigV4(url, 'PUT', { ...sent, 'content-length': '62914561' })).not.toBe(signature);
    expect(sigV4(url, 'PUT', { ...sent, 'content-type': 'text/html' })).not.toBe(signature);
    // Without the tag header (it marks the upload unfinished for the lifecycle rule) the signature fails too.
    expect(sigV4(url, 'PUT', { ...sent, 'x-amz-tagging': '' })).not.toBe(signature);
    expect(upload.headers).toEqual({
      'content-type': 'application/pdf',
      'x-amz-tagging': 'minirag-upload=unfinished',
    });
  });

  it('when asked for more than 15 minutes then the URL is valid for 15 minutes only', async () => {
    const store = createS3BlobStore({
      bucket: 'b',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    const upload = await store.presignUpload(KEY, {
      contentType: 'text/plain',
      sizeBytes: 10,
      expiresInSeconds: 86_400,
    });
    expect(new URL(upload.url).searchParams.get('X-Amz-Expires')).toBe('900');
    expect(upload.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
  });

  it('when an object is missing then head and get answer undefined; present, they give its size and bytes', async () => {
    const store = createS3BlobStore({
      bucket: 'b',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    s3.on(HeadObjectCommand, { Key: KEY }).resolves({ ContentLength: 42, ContentType: 'application/pdf' });
    s3.on(HeadObjectCommand, { Key: 'tenants/x/sources/y/v1/original' }).rejects(
      Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(GetObjectCommand, { Key: KEY }).resolves({ Body: Readable.from([Buffer.from('%PDF')]) as never });
    s3.on(GetObjectCommand, { Key: 'tenants/x/sources/y/v1/original' }).rejects(
      Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }),
    );
    expect(await store.head(KEY)).toEqual({ sizeBytes: 42, contentType: 'application/pdf' });
    expect(await store.head('tenants/x/sources/y/v1/original')).toBeUndefined();
    const body = await store.get(KEY);
    const chunks: Buffer[] = [];
    for await (const c of body!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('%PDF');
    expect(await store.get('tenants/x/sources/y/v1/original')).toBeUndefined();
  });

  it('when a throttled HEAD fails then the error is not mistaken for a missing object', async () => {
    const store = createS3BlobStore({
      bucket: 'b',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
    );
    await expect(store.head(KEY)).rejects.toThrow('SlowDown');
  });

  it('when a prefix is deleted then every page of its objects is deleted, and only under that prefix', async () => {
    const store = createS3BlobStore({
      bucket: 'b',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    const prefix = sourceBlobPrefix(TENANT, SOURCE);
    s3.on(ListObjectsV2Command, { Prefix: prefix, ContinuationToken: undefined }).resolves({
      Contents: [{ Key: `${prefix}v1/original` }],
      IsTruncated: true,
      NextContinuationToken: 'page-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: prefix, ContinuationToken: 'page-2' }).resolves({
      Contents: [{ Key: `${prefix}v2/original` }],
      IsTruncated: false,
    });
    s3.on(DeleteObjectsCommand).resolves({});
    await store.deletePrefix(prefix);
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!);
    expect(deleted.map((o) => o.Key)).toEqual([`${prefix}v1/original`, `${prefix}v2/original`]);
    await expect(store.deletePrefix('tenants/')).rejects.toThrow('Not a blob prefix');
    await expect(store.deletePrefix('')).rejects.toThrow('Not a blob prefix');
  });

  it('when bytes are put then the object carries its type and length', async () => {
    const store = createS3BlobStore({
      bucket: 'b',
      client: new S3Client({ region: 'eu-west-1', credentials }),
    });
    s3.on(PutObjectCommand).resolves({});
    await store.put(KEY, new Uint8Array([1, 2, 3]), 'application/pdf');
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Bucket: 'b', Key: KEY, ContentType: 'application/pdf', ContentLength: 3 });
  });
});
