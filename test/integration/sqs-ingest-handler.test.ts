import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '#functions/ingest/app.ts';
import { qdrantProviderError } from '#shared/adapters/qdrant/provider-error.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
import type { VectorStore } from '#shared/ports/vector-store.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  sqsEvent,
  sqsRecord,
  startIngestHarness,
} from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

const MAX_ATTEMPTS = 3; // = the queue's maxReceiveCount
const POISON = 'POISON-PILL';
const REFUSAL = 'The embedding provider refused this text for now; try again later.';
const FORBIDDEN = 'FORBIDDEN-TEXT';
const REJECTION = 'The embedding provider rejected this text.';

describe.each(databaseKinds())('ingest Lambda handler (SQS batch) on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  /** Its sources share no embedding request with `tenant`'s, even in one batch. */
  let other: TestTenant;
  let handle: ReturnType<typeof createIngestApp>;
  /** Sources whose vectors cannot be written: the vector store is down for them (a refused connection). */
  const unreachableFor = new Set<string>();
  /** Every request the embedder got, as its texts. */
  const requests: string[][] = [];

  beforeAll(async () => {
    database = await kind.create();
    h = await startIngestHarness(database, { startWorker: false });
    tenant = await createTestTenant(h.api, 'lambda');
    other = await createTestTenant(h.api, 'lambda-other');
    // A request with POISON fails as a provider rate limit too long to wait for inside embedInBatches
    // (retry-after 120 s > its 60 s cap): a retryable failure, left to SQS redelivery. One with FORBIDDEN
    // is refused for good (400).
    const embedder: Embedder = {
      ...h.platform.embedder,
      embed: async (texts, options) => {
        requests.push([...texts]);
        if (texts.some((t) => t.includes(POISON))) {
          throw new ProviderError(REFUSAL, { status: 429, retryAfterSeconds: 120 });
        }
        if (texts.some((t) => t.includes(FORBIDDEN))) throw new ProviderError(REJECTION, { status: 400 });
        return h.platform.embedder.embed(texts, options);
      },
    };
    const store = h.ingestDeps.vectorStore;
    const vectorStore: VectorStore = {
      ...store,
      ensureSpace: (space) => store.ensureSpace(space),
      search: (...args) => store.search(...args),
      deleteBySource: (...args) => store.deleteBySource(...args),
      upsert: async (tenantId, space, points) => {
        if (points.some((p) => unreachableFor.has(p.sourceId))) {
          // What the Qdrant client throws when nothing listens, as the adapter translates it.
          const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6333'), {
            code: 'ECONNREFUSED',
          });
          throw qdrantProviderError('upsert', new TypeError('fetch failed', { cause: refused }), undefined);
        }
        return store.upsert(tenantId, space, points);
      },
    };
    handle = createIngestApp({ ...h.ingestDeps, embedder, vectorStore, maxAttempts: MAX_ATTEMPTS });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  async function message(content: string, owner: TestTenant = tenant) {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: owner.apiToken,
      body: { title: content.slice(0, 30), type: 'text', content },
    });
    expect(res.status, res.text).toBe(202);
    return {
      id: res.body.id as string,
      body: JSON.stringify({ tenantId: owner.id, sourceId: res.body.id, version: 1 }),
    };
  }

  it('when a batch has a good, a malformed and a failing record then exactly the bad two are reported', async () => {
    const good = await message('A good document about pumps and their seals.');
    const failing = await message(`A document the provider refuses: ${POISON}.`, other);
    const records = [
      sqsRecord(good.body),
      sqsRecord('{"tenantId": "not json at all'),
      sqsRecord(JSON.stringify({ tenantId: tenant.id, sourceId: 'not-a-uuid', version: 1 })),
      sqsRecord(failing.body),
    ];
    const out = await handle(sqsEvent(...records));
    expect(out.batchItemFailures).toEqual([
      { itemIdentifier: records[1]!.messageId },
      { itemIdentifier: records[2]!.messageId },
      { itemIdentifier: records[3]!.messageId },
    ]);

    const done = await getSourceJson(h, tenant.apiToken, good.id);
    expect(done.status).toBe('COMPLETED');
    await expectConsistentSource(h, tenant.id, done);
    // Not the last delivery: back to PENDING with the reason, for SQS to deliver again.
    expect(await getSourceJson(h, other.apiToken, failing.id)).toMatchObject({
      status: 'PENDING',
      error: `Retrying: ${REFUSAL}`,
    });
    const logged = h.platform.logger.lines.filter((l) => l.includes('malformed ingest message'));
    expect(logged).toHaveLength(2);
    expect(logged.join()).not.toContain('not json at all'); // ids in the log, never message content
  });

  it('when the last delivery fails then the source is FAILED with the reason and the record stays failed for the DLQ', async () => {
    const failing = await message(`Another refused document: ${POISON}.`, other);
    const good = await message('Another good document, about valves.');
    for (let receive = 1; receive < MAX_ATTEMPTS; receive++) {
      const record = sqsRecord(failing.body, receive);
      const out = await handle(sqsEvent(sqsRecord(good.body, receive), record));
      expect(out.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      expect((await getSourceJson(h, other.apiToken, failing.id)).status).toBe('PENDING');
    }
    const last = sqsRecord(failing.body, MAX_ATTEMPTS);
    const out = await handle(sqsEvent(sqsRecord(good.body, MAX_ATTEMPTS), last));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: last.messageId }]);
    expect(await getSourceJson(h, other.apiToken, failing.id)).toMatchObject({
      status: 'FAILED',
      error: REFUSAL,
    });
    expect(await h.vectors(other.id, failing.id)).toBe(0);
    expect((await getSourceJson(h, tenant.apiToken, good.id)).status).toBe('COMPLETED');
  });

  it('when a batch holds several small sources of a tenant then their chunks share one embedding request', async () => {
    const sources = await Promise.all(
      ['pumps', 'valves', 'seals', 'gaskets'].map((topic) => message(`A short note about ${topic}.`)),
    );
    const otherSource = await message('A short note of another tenant.', other);
    requests.length = 0;
    const out = await handle(sqsEvent(...sources.map((s) => sqsRecord(s.body)), sqsRecord(otherSource.body)));
    expect(out.batchItemFailures).toEqual([]);
    // One request for the tenant's four sources, one for the other tenant's: never both tenants in one.
    expect(requests.map((r) => r.length).sort()).toEqual([1, 4]);
    for (const s of sources) {
      const done = await getSourceJson(h, tenant.apiToken, s.id);
      expect(done.status).toBe('COMPLETED');
      await expectConsistentSource(h, tenant.id, done);
    }
    expect((await getSourceJson(h, other.apiToken, otherSource.id)).status).toBe('COMPLETED');
  });

  it('when a shared request hits a rate limit then every source in it goes back to SQS, none is lost', async () => {
    const good = await message('A good document that shares a request with a rate-limited one.');
    const failing = await message(`A rate-limited document: ${POISON}.`);
    const records = [sqsRecord(good.body), sqsRecord(failing.body)];
    await expect(handle(sqsEvent(...records))).rejects.toThrow(/All records failed processing/);
    for (const s of [good, failing]) {
      expect(await getSourceJson(h, tenant.apiToken, s.id)).toMatchObject({
        status: 'PENDING',
        error: `Retrying: ${REFUSAL}`,
      });
    }
    // Delivered again (here: apart), the good one completes.
    expect((await handle(sqsEvent(sqsRecord(good.body, 2)))).batchItemFailures).toEqual([]);
    expect((await getSourceJson(h, tenant.apiToken, good.id)).status).toBe('COMPLETED');
  });

  it('when the provider refuses one source of a shared request then only that source is FAILED', async () => {
    const good = await message('A good document sharing a request with a refused one.');
    const refused = await message(`A document the provider will never take: ${FORBIDDEN}.`);
    const records = [sqsRecord(good.body), sqsRecord(refused.body)];
    const out = await handle(sqsEvent(...records));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(await getSourceJson(h, tenant.apiToken, refused.id)).toMatchObject({
      status: 'FAILED',
      error: REJECTION,
    });
    const done = await getSourceJson(h, tenant.apiToken, good.id);
    expect(done.status).toBe('COMPLETED');
    await expectConsistentSource(h, tenant.id, done);
  });

  it('when every record of a batch fails then the whole batch fails (Powertools FullBatchFailureError)', async () => {
    const failing = await message(`Alone and refused: ${POISON}.`);
    await expect(handle(sqsEvent(sqsRecord(failing.body), sqsRecord('[]')))).rejects.toThrow(
      /All records failed processing/,
    );
    // The attempt was still recorded on the source.
    expect((await getSourceJson(h, tenant.apiToken, failing.id)).error).toBe(`Retrying: ${REFUSAL}`);
  });

  it('when a record is for an old version or a deleted source then it succeeds without doing anything', async () => {
    const source = await message('A document that is re-ingested, then deleted.');
    await call(h.api, 'POST', `/v1/sources/${source.id}/reingest`, { token: tenant.apiToken });
    const stale = sqsRecord(source.body); // version 1; the source is at version 2 now
    expect((await handle(sqsEvent(stale))).batchItemFailures).toEqual([]);
    expect(await h.chunkRows(source.id)).toEqual([]);

    await call(h.api, 'DELETE', `/v1/sources/${source.id}`, { token: tenant.apiToken });
    const gone = sqsRecord(JSON.stringify({ tenantId: tenant.id, sourceId: source.id, version: 2 }));
    expect((await handle(sqsEvent(gone))).batchItemFailures).toEqual([]);
    expect(await h.vectors(tenant.id, source.id)).toBe(0);
  });

  it('when the vector store is down then the record is retried on every delivery but the last, and only a document problem is FAILED at once', async () => {
    const good = await message('A document indexed while another waits for the vector store.');
    const waiting = await message('A document whose vectors cannot be written while the store is down.');
    const refused = await message(`A document the provider rejects meanwhile: ${FORBIDDEN}.`, other);
    unreachableFor.add(waiting.id);
    const logged = h.platform.logger.lines.length;
    for (let receive = 1; receive < MAX_ATTEMPTS; receive++) {
      const records = [sqsRecord(good.body, receive), sqsRecord(waiting.body, receive)];
      if (receive === 1) records.push(sqsRecord(refused.body, receive));
      const out = await handle(sqsEvent(...records));
      // In the order the records finished, which is not the order they came in.
      const failed = out.batchItemFailures.map((f) => f.itemIdentifier).sort();
      expect(failed).toEqual(
        records
          .slice(1)
          .map((r) => r.messageId)
          .sort(),
      );
      expect(await getSourceJson(h, tenant.apiToken, waiting.id)).toMatchObject({
        status: 'PENDING',
        error: expect.stringMatching(/^Waiting to retry: The vector store is unavailable right now/),
      });
    }
    // The document problem did not wait: FAILED on its first delivery.
    expect(await getSourceJson(h, other.apiToken, refused.id)).toMatchObject({
      status: 'FAILED',
      error: REJECTION,
    });
    expect((await getSourceJson(h, tenant.apiToken, good.id)).status).toBe('COMPLETED');
    // The cause is in the log at ERROR, with the source id: class, code and stack, not only the sentence.
    const outage = h.platform.logger.lines
      .slice(logged)
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 'error' && l.sourceId === waiting.id);
    expect(outage).toMatchObject({
      message: 'ingest attempt failed',
      outage: true,
      error: { class: 'ServiceUnavailableError' },
      causes: expect.arrayContaining([expect.objectContaining({ class: 'Error', code: 'ECONNREFUSED' })]),
    });
    expect(outage.causes.at(-1).stack).toMatch(/at /);

    // The last delivery: the outage is final now, and the source says why.
    const last = sqsRecord(waiting.body, MAX_ATTEMPTS);
    expect((await handle(sqsEvent(sqsRecord(good.body, MAX_ATTEMPTS), last))).batchItemFailures).toEqual([
      { itemIdentifier: last.messageId },
    ]);
    expect(await getSourceJson(h, tenant.apiToken, waiting.id)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/^The vector store is unavailable right now/),
    });
    unreachableFor.delete(waiting.id);
  });
});
