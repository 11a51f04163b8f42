import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalServer } from '#cli/server/local-server.ts';
import { sql } from '#shared/db/sql.ts';
import { originalBlobKey } from '#shared/domain/blob-key.ts';
import { sweepAbandonedUploads } from '#shared/usecases/uploads.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  startIngestHarness,
  uploadFile,
} from '#test/fixtures/ingest.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { makePdf } from '#test/fixtures/rag/documents.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const MAX_UPLOAD_BYTES = 200_000; // what testPlatform configures
type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

describe.each(databaseKinds())('direct uploads on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let server: App;
  let a: TestTenant;
  let b: TestTenant;
  let pdf: Uint8Array;
  /** Where ingestion copies each original for extraction: empty again once a source is done. */
  let copies: string;

  beforeAll(async () => {
    database = await kind.create();
    copies = await mkdtemp(join(tmpdir(), 'minirag-copies-'));
    h = await startIngestHarness(database, {
      platform: { env: { UPLOAD_URL_SECONDS: '2' } },
      ingest: { tempDir: copies },
    });
    // The local server's upload route over the same blob store (its own worker is never started).
    server = createLocalServer({ ...testPlatform(database), blobStore: h.platform.blobStore }).app;
    a = await createTestTenant(h.api, 'up-a');
    b = await createTestTenant(h.api, 'up-b');
    pdf = await makePdf([
      ['The pump manual: prime the pump before the first start.'],
      ['Bleed the air from the casing through the vent screw.'],
    ]);
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
    await rm(copies, { recursive: true, force: true });
  });

  const start = (token: string, body: Record<string, unknown>) =>
    call(h.api, 'POST', '/v1/sources/uploads', { token, body });
  const put = (url: string, bytes: Uint8Array | string, headers: Record<string, string>) =>
    Promise.resolve(
      server.request(new URL(url).pathname, {
        method: 'PUT',
        headers,
        body: typeof bytes === 'string' ? bytes : new Uint8Array(bytes),
      }),
    );
  const complete = (token: string, id: string) =>
    call(h.api, 'POST', `/v1/sources/${id}/complete`, { token });
  const stored = (tenantId: string, id: string) =>
    h.platform.blobStore.head(originalBlobKey(tenantId as never, id, 1));
  const sourceCount = async (tenantId: string) => {
    const [row] = await h.superuser.withSystem((tx) =>
      tx.query<{ n: number }>(sql`select count(*)::int as n from sources where tenant_id = ${tenantId}`),
    );
    return row!.n;
  };
  const jobsFor = async (id: string) => {
    const [row] = await h.superuser.withSystem((tx) =>
      tx.query<{ n: number }>(sql`select count(*)::int as n from jobs where payload->>'sourceId' = ${id}`),
    );
    return row!.n;
  };

  async function upload(t: TestTenant, bytes: Uint8Array, name = 'manual.pdf', type = 'application/pdf') {
    const started = await start(t.apiToken, { filename: name, content_type: type, size_bytes: bytes.length });
    expect(started.status, started.text).toBe(201);
    const res = await put(started.body.upload.url, bytes, {
      ...started.body.upload.headers,
      'content-length': String(bytes.length),
    });
    expect(res.status, await res.text()).toBe(200);
    return started.body.source_id as string;
  }

  it('when a file is declared, PUT and completed then it ends COMPLETED with searchable chunks, under its tenant only', async () => {
    const started = await start(a.apiToken, {
      filename: 'pump-manual.pdf',
      content_type: 'application/pdf',
      size_bytes: pdf.length,
      title: 'Pump manual',
      tags: ['manuals'],
      metadata: { plant: 4 },
    });
    expect(started.status, started.text).toBe(201);
    expect(Object.keys(started.body).sort()).toEqual(['expires_at', 'source_id', 'upload']);
    expect(started.body.upload).toMatchObject({
      method: 'PUT',
      url: expect.stringMatching(/^http:\/\/localhost\/v1\/uploads\/[\w-]+\.[\w-]+$/),
      headers: { 'content-type': 'application/pdf' },
    });
    expect(Date.parse(started.body.expires_at)).toBeGreaterThan(Date.now());
    const id = started.body.source_id as string;
    const waiting = await getSourceJson(h, a.apiToken, id);
    expect(waiting).toMatchObject({
      status: 'AWAITING_UPLOAD',
      size_bytes: pdf.length,
      title: 'Pump manual',
    });

    // Before the bytes: 409 with what to do, nothing queued.
    expectProblem(await complete(a.apiToken, id), 409, 'not been uploaded yet');
    expect(await jobsFor(id)).toBe(0);

    const res = await put(started.body.upload.url, pdf, { 'content-type': 'application/pdf' });
    expect(res.status, await res.text()).toBe(200);
    const completed = await complete(a.apiToken, id);
    expect(completed.status, completed.text).toBe(202);
    expect(completed.body.status).toBe('PENDING');
    // Twice: the same answer, still one job.
    const again = await complete(a.apiToken, id);
    expect(again.status).toBe(202);
    expect(await jobsFor(id)).toBe(1);

    await h.idle();
    const source = await getSourceJson(h, a.apiToken, id);
    expect(source, JSON.stringify(source)).toMatchObject({
      status: 'COMPLETED',
      error: null,
      tags: ['manuals'],
    });
    await expectConsistentSource(h, a.id, source);
    const chunks = await h.chunkRows(id);
    expect(chunks.length).toBeGreaterThan(0);
    // The original was read from a temporary copy, removed once extracted.
    expect(await readdir(copies)).toEqual([]);
    // B sees nothing of it.
    expectProblem(await call(h.api, 'GET', `/v1/sources/${id}`, { token: b.apiToken }), 404);

    // Re-ingest reads the stored original again.
    const re = await call(h.api, 'POST', `/v1/sources/${id}/reingest`, { token: a.apiToken });
    expect(re.status, re.text).toBe(202);
    await h.idle();
    expect(await getSourceJson(h, a.apiToken, id)).toMatchObject({ status: 'COMPLETED', version: 2 });
    await expectConsistentSource(h, a.id, await getSourceJson(h, a.apiToken, id));

    // Deleting the source removes its stored file (through the ingest queue).
    expect((await call(h.api, 'DELETE', `/v1/sources/${id}`, { token: a.apiToken })).status).toBe(204);
    await h.idle();
    expect(await stored(a.id, id)).toBeUndefined();
    expect(existsSync(join(h.platform.blobStore.dir, `tenants/${a.id}/sources/${id}`))).toBe(false);
  });

  it('when the same bytes are uploaded again then the new source ends as a duplicate of the first, nothing re-embedded', async () => {
    const bytes = await makePdf([['Duplicate detection: the commissioning checklist for boiler 7.']]);
    const first = await upload(a, bytes, 'checklist.pdf');
    expect((await complete(a.apiToken, first)).status).toBe(202);
    await h.idle();
    const second = await upload(a, bytes, 'checklist-copy.pdf');
    expect((await complete(a.apiToken, second)).status).toBe(202);
    await h.idle();
    const dup = await getSourceJson(h, a.apiToken, second);
    expect(dup).toMatchObject({ status: 'FAILED', duplicate_of: first, chunk_count: 0 });
    expect(dup.error).toContain(first);
    expect(await h.vectors(a.id, second)).toBe(0);
    expect((await getSourceJson(h, a.apiToken, first)).status).toBe('COMPLETED');
    // The same bytes in another tenant are that tenant's own, not a duplicate.
    const other = await upload(b, bytes, 'checklist.pdf');
    expect((await complete(b.apiToken, other)).status).toBe(202);
    await h.idle();
    expect(await getSourceJson(h, b.apiToken, other)).toMatchObject({
      status: 'COMPLETED',
      duplicate_of: null,
    });
  });

  it('when the same bytes as a failed source are uploaded again then the copy says to re-ingest the failed one', async () => {
    const bytes = await makePdf([['Retry guidance: the failed ingestion of the valve manual.']]);
    const first = await upload(a, bytes, 'valves.pdf');
    expect((await complete(a.apiToken, first)).status).toBe(202);
    await h.idle();
    await h.superuser.withSystem((tx) =>
      tx.query(
        sql`update sources set status = 'FAILED', error = 'The embedding provider was unavailable.' where id = ${first}`,
      ),
    );
    const second = await upload(a, bytes, 'valves-again.pdf');
    expect((await complete(a.apiToken, second)).status).toBe(202);
    await h.idle();
    const dup = await getSourceJson(h, a.apiToken, second);
    expect(dup).toMatchObject({ status: 'FAILED', duplicate_of: first, chunk_count: 0 });
    expect(dup.error).toContain('whose ingestion failed: The embedding provider was unavailable.');
    expect(dup.error).toContain('Re-ingest that source to try again');
  });

  it("when tenant B completes, reads or re-ingests A's waiting upload then 404 and A's source is untouched", async () => {
    const started = await start(a.apiToken, {
      filename: 'a.pdf',
      content_type: 'application/pdf',
      size_bytes: pdf.length,
    });
    const id = started.body.source_id as string;
    await put(started.body.upload.url, pdf, { 'content-type': 'application/pdf' });
    expectProblem(await complete(b.apiToken, id), 404);
    expectProblem(await call(h.api, 'POST', `/v1/sources/${id}/reingest`, { token: b.apiToken }), 404);
    expectProblem(await call(h.api, 'DELETE', `/v1/sources/${id}`, { token: b.apiToken }), 404);
    expect((await getSourceJson(h, a.apiToken, id)).status).toBe('AWAITING_UPLOAD');
    expect(await jobsFor(id)).toBe(0);
    expect(await stored(a.id, id)).toMatchObject({ sizeBytes: pdf.length });
  });

  it("when an upload URL is altered to write another tenant's key then it is refused and nothing is written there", async () => {
    const mine = await start(b.apiToken, {
      filename: 'b.pdf',
      content_type: 'application/pdf',
      size_bytes: 5,
    });
    const theirs = await start(a.apiToken, {
      filename: 'a.pdf',
      content_type: 'application/pdf',
      size_bytes: 5,
    });
    const token = new URL(mine.body.upload.url).pathname.split('/').pop()!;
    const [payload, signature] = token.split('.');
    const grant = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const target = originalBlobKey(a.id, theirs.body.source_id, 1);
    const forged = Buffer.from(JSON.stringify({ ...grant, key: target })).toString('base64url');
    const res = await put(`http://localhost/v1/uploads/${forged}.${signature}`, '%PDF-', {
      'content-type': 'application/pdf',
    });
    expect(res.status).toBe(403);
    expect((await res.json()).detail).toContain('not valid');
    expect(await stored(a.id, theirs.body.source_id)).toBeUndefined();
    expectProblem(await complete(a.apiToken, theirs.body.source_id), 409);
  });

  it('when the declaration is refused (too large, empty, unreadable type) then a 4xx says why and no source is created', async () => {
    const before = await sourceCount(a.id);
    const base = { filename: 'x.pdf', content_type: 'application/pdf' };
    expectProblem(
      await start(a.apiToken, { ...base, size_bytes: MAX_UPLOAD_BYTES + 1 }),
      413,
      `${MAX_UPLOAD_BYTES}`,
    );
    expectProblem(await start(a.apiToken, { ...base, size_bytes: 0 }), 400, 'empty');
    expectProblem(
      await start(a.apiToken, {
        filename: 'setup.exe',
        content_type: 'application/octet-stream',
        size_bytes: 10,
      }),
      415,
      '.exe',
    );
    expectProblem(
      await start(a.apiToken, { filename: 'notes.txt', content_type: 'application/pdf', size_bytes: 10 }),
      415,
    );
    expectProblem(await start(a.apiToken, { ...base, size_bytes: -1 }), 400);
    expectProblem(await start(a.apiToken, { ...base, size_bytes: 1.5 }), 400);
    expectProblem(await start(a.apiToken, { filename: 'x.pdf', size_bytes: 10 }), 400, 'content_type');
    expect(await sourceCount(a.id)).toBe(before);
  });

  it('when the bytes sent differ from the declaration then the PUT is refused, nothing is stored and completion answers 409', async () => {
    const started = await start(a.apiToken, {
      filename: 'size.pdf',
      content_type: 'application/pdf',
      size_bytes: pdf.length,
    });
    const url = started.body.upload.url as string;
    const id = started.body.source_id as string;
    const fewer = await put(url, pdf.subarray(0, pdf.length - 10), { 'content-type': 'application/pdf' });
    expect(fewer.status).toBe(400);
    const more = await put(url, new Uint8Array([...pdf, 1, 2, 3]), { 'content-type': 'application/pdf' });
    expect(more.status).toBe(413);
    expect(more.headers.get('content-type')).toBe('application/problem+json');
    const wrongType = await put(url, pdf, { 'content-type': 'text/html' });
    expect(wrongType.status).toBe(415);
    expect(await stored(a.id, id)).toBeUndefined();
    expect(await readdir(join(h.platform.blobStore.dir, '.tmp')).catch(() => [])).toEqual([]);
    expectProblem(await complete(a.apiToken, id), 409, 'not been uploaded yet');
  });

  it('when the upload URL has expired then the PUT is refused with 403 and completion says to start again', async () => {
    const started = await start(a.apiToken, {
      filename: 'late.pdf',
      content_type: 'application/pdf',
      size_bytes: 5,
    });
    await new Promise((r) => setTimeout(r, 3100));
    const res = await put(started.body.upload.url, '%PDF-', { 'content-type': 'application/pdf' });
    expect(res.status).toBe(403);
    expect((await res.json()).detail).toContain('expired');
    expectProblem(await complete(a.apiToken, started.body.source_id), 409, 'expired');
  });

  it('when the bytes are not the declared type then the source ends FAILED with a readable reason', async () => {
    const bytes = new TextEncoder().encode('This is plain text pretending to be a PDF document.');
    const id = await upload(a, bytes, 'fake.pdf');
    expect((await complete(a.apiToken, id)).status).toBe(202);
    await h.idle();
    const source = await getSourceJson(h, a.apiToken, id);
    expect(source.status).toBe('FAILED');
    expect(source.error).toMatch(/PDF/i);
    expect(source.error).not.toMatch(/internal/i);
    expect(await readdir(copies)).toEqual([]);
  });

  it('when an upload is never completed then after 24 hours the sweep removes the source and its file', async () => {
    const bytes = await makePdf([['Abandoned upload, never completed.']]);
    const old = await upload(a, bytes, 'old.pdf');
    const recent = await upload(a, await makePdf([['Recent upload, still waiting.']]), 'recent.pdf');
    await h.superuser.withSystem((tx) =>
      tx.query(sql`update sources set created_at = now() - interval '25 hours' where id = ${old}`),
    );
    expect(await sweepAbandonedUploads(h.platform)).toBe(1);
    expect(await call(h.api, 'GET', `/v1/sources/${old}`, { token: a.apiToken })).toMatchObject({
      status: 404,
    });
    expect(await stored(a.id, old)).toBeUndefined();
    expect((await getSourceJson(h, a.apiToken, recent)).status).toBe('AWAITING_UPLOAD');
    expect(await stored(a.id, recent)).toBeDefined();
    // Re-ingesting a source still waiting for its file is a conflict, not a doomed job.
    expectProblem(await call(h.api, 'POST', `/v1/sources/${recent}/reingest`, { token: a.apiToken }), 409);
  });

  it('when a file is sent as multipart then it is kept in the blob store and ingested from there', async () => {
    const res = await uploadFile(h, a.apiToken, {
      name: 'multipart.pdf',
      type: 'application/pdf',
      bytes: await makePdf([['Multipart upload: kept in the blob store like direct ones.']]),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(await stored(a.id, body.id)).toBeDefined();
    const [row] = await h.superuser.withSystem((tx) =>
      tx.query<{ content: unknown }>(sql`select content from sources where id = ${body.id}`),
    );
    expect(row!.content).toBeNull();
    await h.idle();
    expect((await getSourceJson(h, a.apiToken, body.id)).status).toBe('COMPLETED');
  });
});
