import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { fetchUrl } from '#shared/rag/fetch/index.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  startIngestHarness,
  uploadFile,
} from '#test/fixtures/ingest.ts';
import { inListingOrder } from '#test/fixtures/pages.ts';
import { call } from '#test/fixtures/platform.ts';
import { articlePage, makePdf } from '#test/fixtures/rag/documents.ts';
import { createTestTenant, expectProblem, type TestTenant } from '#test/fixtures/tenants.ts';

const text = (topic: string) =>
  `${topic} handbook.\n\nThe ${topic} team meets on Mondays. Questions about ${topic} go to the ${topic} channel.`;

describe.each(databaseKinds())('sources: lifecycle on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let a: TestTenant;
  let page: Server;
  let pageUrl: string;

  beforeAll(async () => {
    // A local web page under a host name (a literal loopback address is refused at submission).
    // fetchUrl's SSRF guard refuses what the name resolves to, 127.0.0.1, by design, so the worker gets
    // a fetchSource that lets exactly this address through (the test-only escape hatch).
    page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(articlePage));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://article.test:${(page.address() as AddressInfo).port}/tenant-isolation`;
    database = await kind.create();
    h = await startIngestHarness(database, {
      ingest: {
        fetchSource: (url, options) =>
          fetchUrl(url, {
            ...options,
            lookup: async (host) => (host === 'article.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
            unsafeAllowAddressForTests: (address) => address === '127.0.0.1',
          }),
      },
    });
    a = await createTestTenant(h.api, 'tenant-a');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
    await new Promise((resolve) => page.close(resolve));
  });

  const post = (body: Record<string, unknown>) =>
    call(h.api, 'POST', '/v1/sources', { token: a.apiToken, body: { type: 'text', ...body } });
  const counts = () =>
    h.superuser.withSystem(async (tx) => {
      const [row] = await tx.query<{ sources: number; jobs: number; usage: number }>(sql`
        select (select count(*)::int from sources) as sources, (select count(*)::int from jobs) as jobs,
               (select count(*)::int from usage_events where kind = 'embed') as usage`);
      return row!;
    });

  it('when the same content is added twice then 409 names the existing source and nothing is re-embedded', async () => {
    const first = await post({ title: 'Original', content: text('duplicate') });
    expect(first.status, first.text).toBe(202);
    await h.idle();
    const before = await counts();
    const embeddings = await h.vectors(a.id, first.body.id);

    const again = await post({ title: 'Same words, other title', content: text('duplicate') });
    expectProblem(again, 409, first.body.id);
    expect(again.body.existing_source_id).toBe(first.body.id);
    const upload = await uploadFile(h, a.apiToken, {
      name: 'copy.txt',
      type: 'text/plain',
      bytes: text('duplicate'),
    });
    expect(upload.status).toBe(409);
    expect((await upload.json()).existing_source_id).toBe(first.body.id);

    await h.idle();
    expect(await counts()).toEqual(before);
    expect(await h.vectors(a.id, first.body.id)).toBe(embeddings);
  });

  /**
   * Seven text sources (tags alternate even/odd) and one broken PDF, for a fresh tenant; ids in creation order,
   * and `inListOrder` to put some of them in the order a listing gives (see inListingOrder).
   */
  async function listingTenant() {
    const tenant = await createTestTenant(h.api, 'lister');
    const made: string[] = [];
    const createdAt = new Map<string, string>();
    for (let i = 0; i < 7; i++) {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: {
          title: `doc ${i}`,
          type: 'text',
          content: text(`topic${i}`),
          tags: i % 2 ? ['odd'] : ['even'],
        },
      });
      made.push(res.body.id);
      createdAt.set(res.body.id, res.body.created_at);
    }
    // The last one is broken on purpose: an unreadable PDF ends FAILED.
    const broken = await uploadFile(h, tenant.apiToken, {
      name: 'x.pdf',
      type: 'application/pdf',
      bytes: 'nope',
    });
    const brokenSource = await broken.json();
    made.push(brokenSource.id);
    createdAt.set(brokenSource.id, brokenSource.created_at);
    await h.idle();
    const inListOrder = (ids: string[]) =>
      inListingOrder(ids.map((id) => ({ id, createdAt: createdAt.get(id)! })));
    return { token: tenant.apiToken, made, inListOrder };
  }

  it('when sources are listed with status and tag filters then exactly the matching ones come back', async () => {
    const { token, made, inListOrder } = await listingTenant();
    const list = async (query: string) =>
      (await call(h.api, 'GET', `/v1/sources?limit=100&${query}`, { token })).body.data.map(
        (s: { id: string }) => s.id,
      );
    expect(await list('')).toEqual(inListOrder(made));
    expect(await list('tag=odd')).toEqual(inListOrder([made[1]!, made[3]!, made[5]!]));
    expect(await list('status=FAILED')).toEqual([made[7]]);
    expect(await list('status=COMPLETED&tag=even')).toEqual(
      inListOrder([made[0]!, made[2]!, made[4]!, made[6]!]),
    );
    expect(await list('status=PENDING')).toEqual([]);
    expectProblem(await call(h.api, 'GET', '/v1/sources?status=DONE', { token }), 400);
  });

  it('when sources are listed page by page then every source comes exactly once, in creation order', async () => {
    const { token, made, inListOrder } = await listingTenant();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(h.api, 'GET', `/v1/sources?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        token,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((s: { id: string }) => s.id));
      cursor = res.body.next_cursor;
    } while (cursor && seen.length < 50);
    expect(seen).toEqual(inListOrder(made));
  });

  it('when a source is deleted then its chunks and vectors are gone', async () => {
    const res = await post({ title: 'To delete', content: text('deletion') });
    await h.idle();
    const source = await getSourceJson(h, a.apiToken, res.body.id);
    await expectConsistentSource(h, a.id, source);

    const del = await call(h.api, 'DELETE', `/v1/sources/${source.id}`, { token: a.apiToken });
    expect(del.status, del.text).toBe(204);
    expect(await h.chunkRows(source.id)).toEqual([]);
    expect(await h.vectors(a.id, source.id)).toBe(0);
    expectProblem(await call(h.api, 'GET', `/v1/sources/${source.id}`, { token: a.apiToken }), 404);
    expectProblem(await call(h.api, 'DELETE', `/v1/sources/${source.id}`, { token: a.apiToken }), 404);
  });

  it('when a source is re-ingested then the version goes up and only the new version remains', async () => {
    const res = await post({ title: 'Versioned', content: text('versioning') });
    await h.idle();
    const v1 = await getSourceJson(h, a.apiToken, res.body.id);
    await expectConsistentSource(h, a.id, v1);
    const oldChunkIds = (await h.chunkRows(v1.id)).map((r) => r.id);

    const again = await call(h.api, 'POST', `/v1/sources/${v1.id}/reingest`, { token: a.apiToken });
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({ version: 2, status: 'PENDING' });
    await h.idle();
    const v2 = await getSourceJson(h, a.apiToken, v1.id);
    expect(v2).toMatchObject({ version: 2, status: 'COMPLETED', error: null, chunk_count: v1.chunk_count });
    await expectConsistentSource(h, a.id, v2);
    expect(await h.vectors(a.id, v1.id, 1)).toBe(0);
    const newChunkIds = (await h.chunkRows(v1.id)).map((r) => r.id);
    expect(newChunkIds.filter((id) => oldChunkIds.includes(id))).toEqual([]);
  });

  it('when a PDF is corrupt then the source ends FAILED with an error a person can read', async () => {
    const pdf = await makePdf([['A perfectly good first page.']]);
    const corrupt = pdf.slice(0, 40); // a header and nothing else
    const res = await uploadFile(h, a.apiToken, {
      name: 'broken.pdf',
      type: 'application/pdf',
      bytes: corrupt,
    });
    expect(res.status).toBe(202);
    const { id } = await res.json();
    await h.idle();
    const source = await getSourceJson(h, a.apiToken, id);
    expect(source.status).toBe('FAILED');
    expect(source.error).toMatch(/^The PDF could not be read: .+\.$/);
    expect(source.error).not.toMatch(/Exception|\n\s+at |undefined/);
    expect(source.chunk_count).toBe(0);
    expect(await h.chunkRows(id)).toEqual([]);
    expect(await h.vectors(a.id, id)).toBe(0);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'a link-local address'],
    ['http://127.0.0.1:22/', 'a loopback address'],
    ['http://2130706433/', 'a loopback address'],
    ['http://[::1]/', 'a loopback address'],
    ['http://10.0.0.7/wiki', 'a private address'],
    ['http://[::ffff:192.168.1.1]/', 'a private address'],
  ])(
    'when a URL source names the literal address %s then 400 names the rule and nothing is stored',
    async (url, reason) => {
      const before = await counts();
      const res = await post({ title: 'internal', type: 'url', url });
      expectProblem(res, 400);
      expect(res.body.type).toMatch(/validation-error$/);
      expect(res.body.detail).toContain(`body.url: is ${reason}`);
      expect(res.body.detail).toContain('URL sources are fetched only from public addresses');
      expect(await counts()).toEqual(before);
    },
  );

  it.each(['file:///etc/passwd', 'ftp://example.com/a.txt', 'gopher://example.com/'])(
    'when a URL source has the scheme of %s then 400 says only http(s) is fetched',
    async (url) => {
      const before = await counts();
      const res = await post({ title: 'not http', type: 'url', url });
      expectProblem(res, 400);
      expect(res.body.type).toMatch(/validation-error$/);
      expect(res.body.detail).toContain('body.url: must be an http(s) URL');
      expect(await counts()).toEqual(before);
    },
  );

  it('when a URL source is ingested then the page is fetched, extracted and COMPLETED', async () => {
    const res = await post({ title: 'Isolation article', type: 'url', url: pageUrl });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ type: 'url', url: pageUrl, status: 'PENDING' });
    await h.idle();
    const source = await getSourceJson(h, a.apiToken, res.body.id);
    expect(source, JSON.stringify(source)).toMatchObject({ status: 'COMPLETED', error: null });
    await expectConsistentSource(h, a.id, source);
    const contents = await h.superuser.withSystem((tx) =>
      tx.query<{ content: string }>(sql`select content from chunks where source_id = ${source.id}`),
    );
    const all = contents.map((c) => c.content).join('\n');
    expect(all).toContain('row-level security');
    expect(all).not.toMatch(/tracking|Pricing|color: red/); // script, nav and style are dropped

    // Once fetched, a URL source is guarded by its content hash (the URL guards it only until then): the
    // same page again is accepted, then refused by the ingest step as a duplicate of the first.
    const again = await post({ title: 'again', type: 'url', url: pageUrl });
    expect(again.status, again.text).toBe(202);
    await h.idle();
    const duplicate = await getSourceJson(h, a.apiToken, again.body.id);
    expect(duplicate.status).toBe('FAILED');
    expect(duplicate.error).toBe(
      `The page's content is the same as source ${source.id} ('Isolation article').`,
    );
    expect(await h.chunkRows(again.body.id)).toEqual([]);
  });
});
