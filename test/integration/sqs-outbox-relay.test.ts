import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createIngestApp } from '#functions/ingest/app.ts';
import { createSqsIngestQueue } from '#shared/adapters/sqs/ingest-queue.ts';
import { sql } from '#shared/db/sql.ts';
import type { IngestQueue } from '#shared/ports/ingest-queue.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  getSourceJson,
  type IngestHarness,
  sqsEvent,
  sqsRecord,
  startIngestHarness,
} from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/minirag-ingest';

/** SQS accepting every entry, as SendMessageBatch answers. */
const acceptAll = (input: SendMessageBatchCommandInput): Partial<SendMessageBatchCommandOutput> => ({
  Successful: (input.Entries ?? []).map((e, i) => ({
    Id: e.Id!,
    MessageId: `m-${e.Id}-${i}`,
    MD5OfMessageBody: 'x',
  })),
  Failed: [],
});

describe.each(databaseKinds())('SQS outbox relay on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  let queue: IngestQueue;
  let sqs: AwsClientStub<SQSClient>;

  beforeAll(async () => {
    sqs = mockClient(SQSClient); // per suite: each suite's afterAll restores it
    database = await kind.create();
    h = await startIngestHarness(database, { startWorker: false }); // no local worker: SQS delivers
    tenant = await createTestTenant(h.api, 'sqs');
    // Lease 0: a row whose send failed may be relayed by the very next sweep.
    queue = createSqsIngestQueue({
      db: h.platform.db,
      queueUrl: QUEUE_URL,
      logger: h.platform.logger,
      client: new SQSClient({ region: 'eu-west-1' }),
      leaseSeconds: 0,
    });
  });
  afterEach(() => sqs.reset());
  afterAll(async () => {
    sqs.restore();
    await h.dispose();
    await database.dispose();
  });

  const outbox = () =>
    h.platform.db.withSystem((tx) => tx.query<{ id: string }>(sql`select id from jobs order by created_at`));
  const sentBatches = () => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
  const sentBodies = () =>
    sentBatches().flatMap((batch) => (batch.Entries ?? []).map((e) => JSON.parse(e.MessageBody!)));
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5)); // lets a zero-length lease run out
  async function addSources(n: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: { title: `${label} ${i}`, type: 'text', content: `The ${label} note number ${i} is here.` },
      });
      expect(res.status, res.text).toBe(202);
      ids.push(res.body.id);
    }
    return ids;
  }

  it('when the outbox holds 23 messages then they go out in batches of at most 10 and the rows are deleted', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const ids = await addSources(23, 'batched');
    expect(await outbox()).toHaveLength(23);

    expect(await queue.sweep()).toBe(23);
    const batches = sentBatches();
    expect(batches.map((b) => b.Entries?.length)).toEqual([10, 10, 3]);
    expect(batches.every((b) => b.QueueUrl === QUEUE_URL)).toBe(true);
    expect(sentBodies()).toEqual(
      expect.arrayContaining(ids.map((sourceId) => ({ tenantId: tenant.id, sourceId, version: 1 }))),
    );
    expect(sentBodies()).toHaveLength(23);
    for (const body of sentBodies())
      expect(Object.keys(body).sort()).toEqual(['sourceId', 'tenantId', 'version']);
    expect(await outbox()).toEqual([]);
    expect(await queue.sweep()).toBe(0);
  });

  it('when SendMessageBatch is rejected then the API still answers 202 and the next sweep relays the rows', async () => {
    sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('Service Unavailable')).callsFake(acceptAll);
    // The API relays right after its commit (notify); SQS is down for that one call.
    const api = createApiApp({ ...h.platform, ingestQueue: queue });
    const res = await call(api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: 'sent later', type: 'text', content: 'Relayed by the scheduled sweep.' },
    });
    expect(res.status, res.text).toBe(202);
    expect(await outbox()).toHaveLength(1);
    expect(h.platform.logger.lines.some((l) => l.includes('outbox relay to SQS failed'))).toBe(true);

    await pause();
    expect(await queue.sweep()).toBe(1);
    expect(sentBodies().at(-1)).toEqual({ tenantId: tenant.id, sourceId: res.body.id, version: 1 });
    expect(await outbox()).toEqual([]);
  });

  it('when SQS fails some entries of a batch then only those stay, are relayed next, and every source gets ingested', async () => {
    const ids = await addSources(7, 'partial');
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => {
        const entries = input.Entries ?? [];
        return {
          Successful: entries.slice(0, 4).map((e) => ({ Id: e.Id!, MessageId: 'ok', MD5OfMessageBody: 'x' })),
          Failed: entries
            .slice(4)
            .map((e) => ({ Id: e.Id!, Code: 'InternalError', SenderFault: false, Message: 'try again' })),
        };
      })
      .callsFake(acceptAll);

    expect(await queue.sweep()).toBe(4);
    expect(await outbox()).toHaveLength(3);
    expect(h.platform.logger.lines.some((l) => l.includes('SQS refused an ingest message'))).toBe(true);
    await pause();
    expect(await queue.sweep()).toBe(3);
    expect(await outbox()).toEqual([]);
    const bodies = sentBodies();
    expect(new Set(bodies.map((b) => b.sourceId))).toEqual(new Set(ids));

    // What SQS got is enough to finish the job: no source stays PENDING.
    const ingest = createIngestApp({ ...h.ingestDeps, maxAttempts: 5 });
    const out = await ingest(sqsEvent(...bodies.map((b) => sqsRecord(JSON.stringify(b)))));
    expect(out.batchItemFailures).toEqual([]);
    for (const id of ids) expect((await getSourceJson(h, tenant.apiToken, id)).status).toBe('COMPLETED');
  });

  it('when the scheduled sweep event reaches the ingest function then it relays the outbox', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const [id] = await addSources(1, 'swept');
    const ingest = createIngestApp({ ...h.ingestDeps, maxAttempts: 5, relayOutbox: () => queue.sweep() });
    expect(await ingest({ source: 'minirag.sweep' })).toEqual({ batchItemFailures: [] });
    expect(sentBodies()).toEqual([{ tenantId: tenant.id, sourceId: id, version: 1 }]);
    expect(await outbox()).toEqual([]);
  });
});
