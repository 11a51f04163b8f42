import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '#functions/ingest/app.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
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

describe.each(databaseKinds())('ingest Lambda handler (SQS batch) on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  let handle: ReturnType<typeof createIngestApp>;

  beforeAll(async () => {
    database = await kind.create();
    h = await startIngestHarness(database, { startWorker: false });
    tenant = await createTestTenant(h.api, 'lambda');
    // Any text with the marker fails as a provider rate limit too long to wait for inside embedInBatches
    // (retry-after 120 s > its 60 s cap): a retryable failure, left to SQS redelivery.
    const embedder: Embedder = {
      ...h.platform.embedder,
      embed: async (texts, options) => {
        if (texts.some((t) => t.includes(POISON))) {
          throw new ProviderError(REFUSAL, { status: 429, retryAfterSeconds: 120 });
        }
        return h.platform.embedder.embed(texts, options);
      },
    };
    handle = createIngestApp({ ...h.ingestDeps, embedder, maxAttempts: MAX_ATTEMPTS });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  async function message(content: string) {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: content.slice(0, 30), type: 'text', content },
    });
    expect(res.status, res.text).toBe(202);
    return {
      id: res.body.id as string,
      body: JSON.stringify({ tenantId: tenant.id, sourceId: res.body.id, version: 1 }),
    };
  }

  it('when a batch has a good, a malformed and a failing record then exactly the bad two are reported', async () => {
    const good = await message('A good document about pumps and their seals.');
    const failing = await message(`A document the provider refuses: ${POISON}.`);
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
    expect(await getSourceJson(h, tenant.apiToken, failing.id)).toMatchObject({
      status: 'PENDING',
      error: `Retrying: ${REFUSAL}`,
    });
    const logged = h.platform.logger.lines.filter((l) => l.includes('malformed ingest message'));
    expect(logged).toHaveLength(2);
    expect(logged.join()).not.toContain('not json at all'); // ids in the log, never message content
  });

  it('when the last delivery fails then the source is FAILED with the reason and the record stays failed for the DLQ', async () => {
    const failing = await message(`Another refused document: ${POISON}.`);
    const good = await message('Another good document, about valves.');
    for (let receive = 1; receive < MAX_ATTEMPTS; receive++) {
      const record = sqsRecord(failing.body, receive);
      const out = await handle(sqsEvent(sqsRecord(good.body, receive), record));
      expect(out.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      expect((await getSourceJson(h, tenant.apiToken, failing.id)).status).toBe('PENDING');
    }
    const last = sqsRecord(failing.body, MAX_ATTEMPTS);
    const out = await handle(sqsEvent(sqsRecord(good.body, MAX_ATTEMPTS), last));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: last.messageId }]);
    expect(await getSourceJson(h, tenant.apiToken, failing.id)).toMatchObject({
      status: 'FAILED',
      error: REFUSAL,
    });
    expect(await h.vectors(tenant.id, failing.id)).toBe(0);
    expect((await getSourceJson(h, tenant.apiToken, good.id)).status).toBe('COMPLETED');
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
});
