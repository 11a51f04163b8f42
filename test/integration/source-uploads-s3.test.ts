import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createS3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { ingestDepsOf } from '#shared/composition/ingest-deps.ts';
import { sql } from '#shared/db/sql.ts';
import type { Platform } from '#shared/platform.ts';
import { ingestSource } from '#shared/usecases/ingest-source.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { makePdf } from '#test/fixtures/rag/documents.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const BUCKET = 'minirag-test-originals';
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/**
 * S3 as far as the adapter uses it, answered from a Map by aws-sdk-client-mock. The client's own PUT to the
 * presigned URL goes to S3, not through our code: `clientPut` plays it, after checking the URL names the key.
 */
function fakeS3() {
  const objects = new Map<string, { bytes: Buffer; type: string | undefined }>();
  const s3 = mockClient(S3Client);
  const notFound = () =>
    Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  s3.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, { bytes: Buffer.from(input.Body as Uint8Array), type: input.ContentType });
    return {};
  });
  s3.on(HeadObjectCommand).callsFake((input) => {
    const o = objects.get(input.Key);
    if (!o) throw notFound();
    return { ContentLength: o.bytes.length, ContentType: o.type };
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const o = objects.get(input.Key);
    if (!o) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    // Delivered in small parts, as a network stream is.
    const parts = [];
    for (let i = 0; i < o.bytes.length; i += 1000) parts.push(o.bytes.subarray(i, i + 1000));
    return { Body: Readable.from(parts), ContentLength: o.bytes.length };
  });
  s3.on(DeleteObjectTaggingCommand).resolves({});
  s3.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  s3.on(DeleteObjectsCommand).callsFake((input) => {
    for (const o of input.Delete.Objects) objects.delete(o.Key);
    return {};
  });
  return {
    s3,
    objects,
    clientPut(url: string, bytes: Uint8Array, headers: Record<string, string>) {
      const u = new URL(url);
      expect(u.hostname).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
      expect(u.searchParams.get('X-Amz-SignedHeaders')).toContain('content-length');
      objects.set(decodeURIComponent(u.pathname.slice(1)), {
        bytes: Buffer.from(bytes),
        type: headers['content-type'],
      });
    },
  };
}

describe.each(databaseKinds())('direct uploads through S3 (aws-sdk-client-mock) on $name', (kind) => {
  let database: TestDatabase;
  let platform: Platform;
  let api: ReturnType<typeof createApiApp>;
  let s3: ReturnType<typeof fakeS3>;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    s3 = fakeS3();
    platform = {
      ...testPlatform(database),
      blobStore: createS3BlobStore({
        bucket: BUCKET,
        client: new S3Client({ region: 'eu-west-1', credentials }),
      }),
    };
    api = createApiApp(platform);
    a = await createTestTenant(api, 's3-a');
    b = await createTestTenant(api, 's3-b');
  });
  afterAll(async () => {
    s3.s3.restore();
    await database.dispose();
  });

  /** Runs every queued job once, as the ingest function would for its SQS records. */
  async function drain() {
    const jobs = await database.superuser.withSystem((tx) =>
      tx.query<{ id: string; payload: { tenantId: string; sourceId: string; version: number } }>(
        sql`select id, payload from jobs where status = 'queued' order by created_at`,
      ),
    );
    for (const job of jobs) {
      await ingestSource(job.payload, { number: 1, isLast: true }, ingestDepsOf(platform));
      await database.superuser.withSystem((tx) =>
        tx.query(sql`update jobs set status = 'done' where id = ${job.id}`),
      );
    }
  }

  it('when a PDF goes through presign → PUT → complete → ingest then it is COMPLETED; a second copy is its duplicate; deletion empties its prefix', async () => {
    const pdf = await makePdf([['Turbine maintenance: torque the blade bolts to 240 Nm.']]);
    const started = await call(api, 'POST', '/v1/sources/uploads', {
      token: a.apiToken,
      body: { filename: 'turbine.pdf', content_type: 'application/pdf', size_bytes: pdf.length },
    });
    expect(started.status, started.text).toBe(201);
    const id = started.body.source_id as string;
    const key = `tenants/${a.id}/sources/${id}/v1/original`;
    expect(new URL(started.body.upload.url).pathname).toBe(`/${key}`);
    expectProblem(await call(api, 'POST', `/v1/sources/${id}/complete`, { token: a.apiToken }), 409);

    s3.clientPut(started.body.upload.url, pdf, started.body.upload.headers);
    // Another tenant's credential cannot complete it.
    expectProblem(await call(api, 'POST', `/v1/sources/${id}/complete`, { token: b.apiToken }), 404);
    const done = await call(api, 'POST', `/v1/sources/${id}/complete`, { token: a.apiToken });
    expect(done.status, done.text).toBe(202);
    await drain();
    const source = await call(api, 'GET', `/v1/sources/${id}`, { token: a.apiToken });
    expect(source.body, source.text).toMatchObject({ status: 'COMPLETED', size_bytes: pdf.length });
    expect(source.body.chunk_count).toBeGreaterThan(0);
    expect(s3.s3.commandCalls(HeadObjectCommand, { Bucket: BUCKET, Key: key }).length).toBeGreaterThan(0);
    expect(s3.s3.commandCalls(GetObjectCommand, { Bucket: BUCKET, Key: key })).toHaveLength(1);
    // Ingestion took the file: it no longer carries the tag the lifecycle rule expires.
    expect(s3.s3.commandCalls(DeleteObjectTaggingCommand, { Bucket: BUCKET, Key: key })).toHaveLength(1);
    expect(started.body.upload.headers['x-amz-tagging']).toBe('minirag-upload=unfinished');

    const copy = await call(api, 'POST', '/v1/sources/uploads', {
      token: a.apiToken,
      body: { filename: 'turbine-copy.pdf', content_type: 'application/pdf', size_bytes: pdf.length },
    });
    s3.clientPut(copy.body.upload.url, pdf, copy.body.upload.headers);
    await call(api, 'POST', `/v1/sources/${copy.body.source_id}/complete`, { token: a.apiToken });
    await drain();
    const dup = await call(api, 'GET', `/v1/sources/${copy.body.source_id}`, { token: a.apiToken });
    expect(dup.body).toMatchObject({ status: 'FAILED', duplicate_of: id, chunk_count: 0 });

    expect((await call(api, 'DELETE', `/v1/sources/${id}`, { token: a.apiToken })).status).toBe(204);
    await drain();
    expect([...s3.objects.keys()].filter((k) => k.includes(id))).toEqual([]);
    // The copy's file is another source's and stays.
    expect([...s3.objects.keys()].some((k) => k.includes(copy.body.source_id))).toBe(true);
  });

  it('when the object in S3 has another size than declared then completion answers 409 and nothing is queued', async () => {
    const started = await call(api, 'POST', '/v1/sources/uploads', {
      token: a.apiToken,
      body: { filename: 'short.txt', content_type: 'text/plain', size_bytes: 100 },
    });
    s3.clientPut(
      started.body.upload.url,
      new TextEncoder().encode('only a few bytes'),
      started.body.upload.headers,
    );
    expectProblem(
      await call(api, 'POST', `/v1/sources/${started.body.source_id}/complete`, { token: a.apiToken }),
      409,
      '100 were declared',
    );
    const [row] = await database.superuser.withSystem((tx) =>
      tx.query<{ n: number }>(
        sql`select count(*)::int as n from jobs where payload->>'sourceId' = ${started.body.source_id}`,
      ),
    );
    expect(row!.n).toBe(0);
  });
});
