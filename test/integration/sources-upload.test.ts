import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  startIngestHarness,
  uploadFile,
} from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { articlePage, makeDocx, makePdf } from '#test/fixtures/rag/documents.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const MAX_UPLOAD_BYTES = 200_000; // what testPlatform configures

const JSON_SOURCES = [
  {
    type: 'text',
    content: 'Plain notes: the heat exchanger valve on line 4 is serviced every ninety days.',
  },
  {
    type: 'markdown',
    content: '# Valves\n\nThe **relief valve** opens at 12 bar.\n\n- check monthly\n- replace yearly',
  },
  { type: 'html', content: articlePage },
] as const;

async function jobCount(h: IngestHarness): Promise<number> {
  const [row] = await h.platform.db.withSystem((tx) =>
    tx.query<{ n: number }>(sql`select count(*)::int as n from jobs`),
  );
  return row?.n ?? 0;
}

describe.each(databaseKinds())('sources: uploads and formats on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    h = await startIngestHarness(database);
    a = await createTestTenant(h.api, 'tenant-a');
    b = await createTestTenant(h.api, 'tenant-b');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  /** COMPLETED with consistent chunks and vectors, all of them under A and none visible to B. */
  async function expectIngestedForAOnly(id: string, mentions: string): Promise<void> {
    await h.idle();
    const source = await getSourceJson(h, a.apiToken, id);
    expect(source, JSON.stringify(source)).toMatchObject({ status: 'COMPLETED', error: null, version: 1 });
    await expectConsistentSource(h, a.id, source);
    const owners = await h.superuser.withSystem((tx) =>
      tx.query<{ tenant_id: string; content: string }>(
        sql`select tenant_id, content from chunks where source_id = ${id}`,
      ),
    );
    expect(new Set(owners.map((r) => r.tenant_id))).toEqual(new Set([a.id]));
    expect(owners.map((r) => r.content).join(' ')).toContain(mentions);
    expect(await h.vectors(b.id, id)).toBe(0);
    expectProblem(await call(h.api, 'GET', `/v1/sources/${id}`, { token: b.apiToken }), 404);
  }

  it.each(JSON_SOURCES)(
    'when a JSON $type source is posted then it ends COMPLETED under A only',
    async (s) => {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: a.apiToken,
        body: { title: `A ${s.type} source`, ...s, tags: ['json'] },
      });
      expect(res.status, res.text).toBe(202);
      expect(res.body).toMatchObject({ status: 'PENDING', type: s.type, version: 1, tags: ['json'] });
      await expectIngestedForAOnly(res.body.id, s.type === 'html' ? 'row-level security' : 'valve');
    },
  );

  it.each([
    {
      label: 'a PDF (pdf-lib)',
      name: 'manual.pdf',
      type: 'application/pdf',
      make: () => makePdf([['Pump P-101 manual.', 'The impeller is bronze.'], ['Page two: torque 40 Nm.']]),
      mentions: 'torque 40 Nm',
    },
    {
      label: 'a DOCX (docx)',
      name: 'policy.docx',
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      make: () =>
        makeDocx('Travel policy', ['Economy class for flights under six hours.', 'Receipts within 30 days.']),
      mentions: 'Economy class',
    },
    {
      label: 'an HTML file',
      name: 'article.html',
      type: 'text/html',
      // Not byte-identical to the JSON html source above, which would be a duplicate (409).
      make: async () =>
        new TextEncoder().encode(articlePage.replace('</main>', '<p>Uploaded copy.</p></main>')),
      mentions: 'encryption context',
    },
    {
      label: 'a Markdown file',
      name: 'runbook.md',
      type: 'application/octet-stream', // what curl sends: the extension decides
      make: async () =>
        new TextEncoder().encode('# Runbook\n\nRestart the **ingest worker** with `minirag serve`.'),
      mentions: 'ingest worker',
    },
  ])('when $label is uploaded as multipart then it ends COMPLETED under A only', async (file) => {
    const res = await uploadFile(
      h,
      a.apiToken,
      { name: file.name, type: file.type, bytes: await file.make() },
      {
        tags: 'upload, docs',
      },
    );
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ title: file.name, status: 'PENDING', tags: ['upload', 'docs'] });
    await expectIngestedForAOnly(body.id, file.mentions);
  });

  it('when a JSON body is over MAX_UPLOAD_BYTES then 413 and nothing is stored', async () => {
    const jobs = await jobCount(h);
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: a.apiToken,
      body: { title: 'too big', type: 'text', content: 'x'.repeat(MAX_UPLOAD_BYTES + 1) },
    });
    expectProblem(res, 413, `${MAX_UPLOAD_BYTES}`);
    expect(await jobCount(h)).toBe(jobs);
  });

  it.each([
    { label: 'a 501-character title field', name: 'notes.txt', title: 't'.repeat(501), rule: /title: /i },
    {
      label: 'a 501-character file name',
      name: `${'n'.repeat(497)}.txt`,
      title: undefined,
      rule: /file name/i,
    },
    { label: 'a title field with a NUL', name: 'notes.txt', title: 'a\u0000b', rule: /NUL/ },
  ])('when a multipart upload has $label then 400 names the title rule and nothing is stored', async (c) => {
    const jobs = await jobCount(h);
    const res = await uploadFile(
      h,
      a.apiToken,
      { name: c.name, type: 'text/plain', bytes: 'Plain notes about valves.' },
      c.title === undefined ? {} : { title: c.title },
    );
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.detail).toMatch(c.rule);
    expect(await jobCount(h)).toBe(jobs);
  });

  it('when metadata nests 5,000 levels or holds a lone surrogate then 400 and nothing is stored', async () => {
    // Written as text: building it with JSON.stringify would overflow the test's own stack.
    const deep = `${'{"d":'.repeat(5_000)}"leaf"${'}'.repeat(5_000)}`;
    const body = (metadata: string) =>
      `{"title":"Meta","type":"text","content":"Valves open at 12 bar.","metadata":${metadata}}`;
    const jobs = await jobCount(h);
    for (const metadata of [`{"deep":${deep}}`, '{"note":"broken \\udfff"}', '{"\\ud800key":1}']) {
      const res = await call(h.api, 'POST', '/v1/sources', { token: a.apiToken, body: body(metadata) });
      expect(res.status, res.text.slice(0, 300)).toBe(400);
      expect(res.body.detail).toMatch(/metadata/);
    }
    expect(await jobCount(h)).toBe(jobs);
  });

  it.each(['-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'])(
    'when a cursor names the time %s then 400, not a database error',
    async (createdAt) => {
      const cursor = Buffer.from(
        JSON.stringify({ createdAt, id: '00000000-0000-4000-8000-000000000000' }),
      ).toString('base64url');
      const res = await call(h.api, 'GET', `/v1/sources?cursor=${cursor}`, { token: a.apiToken });
      expect(res.status, res.text.slice(0, 300)).toBe(400);
    },
  );

  it('when a multipart file is over MAX_UPLOAD_BYTES then 413 and nothing is stored', async () => {
    const jobs = await jobCount(h);
    const res = await uploadFile(h, a.apiToken, {
      name: 'big.txt',
      type: 'text/plain',
      bytes: 'y'.repeat(MAX_UPLOAD_BYTES + 1),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await res.json()).detail).toContain(`${MAX_UPLOAD_BYTES}`);
    expect(await jobCount(h)).toBe(jobs);
  });

  it.each([
    { name: 'photo.png', type: 'image/png' },
    { name: 'legacy.doc', type: 'application/msword' },
    { name: 'tool.exe', type: 'application/octet-stream' },
  ])('when $name is uploaded then 415 names what can be read', async (file) => {
    const res = await uploadFile(h, a.apiToken, { ...file, bytes: new Uint8Array([1, 2, 3, 4]) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(415);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.detail).toMatch(/docx/i);
  });

  it('when the body is neither JSON nor multipart then 415', async () => {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: a.apiToken,
      body: 'just some text',
      headers: { 'content-type': 'text/plain' },
    });
    // The route's own hint ("Send application/json, or multipart/form-data…") is never reached: the
    // OpenAPI media-type gate of @hono/zod-openapi answers first (see .notes/ingest-chat-tests.md).
    expectProblem(res, 415);
  });
});
