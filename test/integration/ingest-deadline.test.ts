import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp, ingestDeadlineOf } from '#functions/ingest/app.ts';
import { sql } from '#shared/db/sql.ts';
import { asTenantId } from '#shared/domain/ids.ts';
import type { BlobStore } from '#shared/ports/blob-store.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  getSourceJson,
  type IngestHarness,
  sqsEvent,
  sqsRecord,
  startIngestHarness,
  uploadFile,
} from '#test/fixtures/ingest.ts';
import { call, testPlatform } from '#test/fixtures/platform.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

describe('the ingest deadline of a Lambda invocation', () => {
  const now = 1_000_000;
  it('when the invocation has 5 minutes left then ingestion stops 30 s before its end', () => {
    expect(ingestDeadlineOf({ getRemainingTimeInMillis: () => 300_000 }, undefined, now)).toBe(now + 270_000);
  });
  it('when the invocation is short then a fifth of its time is kept back, not 30 s', () => {
    expect(ingestDeadlineOf({ getRemainingTimeInMillis: () => 2_000 }, undefined, now)).toBe(now + 1_600);
  });
  it('when INGEST_DEADLINE_SECONDS is shorter than the time left then it applies', () => {
    expect(ingestDeadlineOf({ getRemainingTimeInMillis: () => 300_000 }, 60, now)).toBe(now + 60_000);
    expect(ingestDeadlineOf({ getRemainingTimeInMillis: () => 300_000 }, 1800, now)).toBe(now + 270_000);
  });
  it('when there is neither a context nor a setting then there is no deadline', () => {
    expect(ingestDeadlineOf(undefined, undefined, now)).toBeUndefined();
  });
});

const SLOW = 'SLOW-TO-EMBED';

/**
 * A document whose embedding outlasts the ingestion's time: it ends FAILED with a reason that says so, with
 * nothing of it stored (not even when the abandoned embedding finishes later), and its message is done.
 */
describe.each(databaseKinds())('a source too slow to embed on $name', { timeout: 60_000 }, (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  let other: TestTenant;
  /** Releases every embedding request held back (the slow provider answers at last). */
  let release: () => void = () => {};
  let held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slowCalls = { n: 0 };

  beforeAll(async () => {
    database = await kind.create();
    const inner = testPlatform(database).embedder;
    const embedder: Embedder = {
      ...inner,
      embed: async (texts, options) => {
        if (texts.some((t) => t.includes(SLOW))) {
          slowCalls.n++;
          await held;
        }
        return inner.embed(texts, options);
      },
    };
    h = await startIngestHarness(database, {
      startWorker: false,
      deadlineSeconds: 1,
      ingest: { embedder },
    });
    tenant = await createTestTenant(h.api, 'deadline');
    other = await createTestTenant(h.api, 'deadline-other');
  });
  afterAll(async () => {
    release();
    await h.dispose();
    await database.dispose();
  });

  async function source(owner: TestTenant, content: string) {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: owner.apiToken,
      body: { title: content.slice(0, 30), type: 'text', content },
    });
    expect(res.status, res.text).toBe(202);
    return res.body.id as string;
  }
  const longText = (marker: string) =>
    Array.from(
      { length: 40 },
      (_, i) => `${marker} paragraph ${i}: the pump's casing is vented before start.`,
    ).join('\n\n');
  const jobsFor = async (id: string) =>
    (
      await h.superuser.withSystem((tx) =>
        tx.query<{ n: number }>(sql`select count(*)::int as n from jobs where payload->>'sourceId' = ${id}`),
      )
    )[0]!.n;

  async function expectNothingStored(id: string) {
    expect(await h.chunkRows(id)).toEqual([]);
    expect(await h.vectors(asTenantId(tenant.id), id)).toBe(0);
    const [row] = await h.superuser.withSystem((tx) =>
      tx.query<{ chunk_count: number | null }>(sql`select chunk_count from sources where id = ${id}`),
    );
    expect(row!.chunk_count ?? 0).toBe(0);
  }

  it('when the Lambda has 2 s left and embedding takes longer then the source is FAILED with the reason, nothing stored, and the record succeeds', async () => {
    const slow = await source(tenant, longText(SLOW));
    const fast = await source(other, 'A short note about the boiler, embedded at once.');
    const handle = createIngestApp({ ...h.ingestDeps, maxAttempts: 5 });
    const started = Date.now();
    const result = await handle(
      sqsEvent(
        sqsRecord(JSON.stringify({ tenantId: tenant.id, sourceId: slow, version: 1 })),
        sqsRecord(JSON.stringify({ tenantId: other.id, sourceId: fast, version: 1 })),
      ),
      { getRemainingTimeInMillis: () => 2_000 },
    );
    // Stopped at the deadline (1.6 s), not when the provider answers.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Acknowledged: SQS does not deliver it again.
    expect(result.batchItemFailures).toEqual([]);
    const failed = await getSourceJson(h, tenant.apiToken, slow);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(
      /^Ingestion did not finish within 2 s: it was still embedding its \d+ chunks\./,
    );
    expect(failed.error).toMatch(/Nothing of it was stored/);
    await expectNothingStored(slow);
    expect((await getSourceJson(h, other.apiToken, fast)).status).toBe('COMPLETED');

    // The abandoned embedding answers at last: still nothing is written for the source.
    release();
    await new Promise((r) => setTimeout(r, 500));
    expect((await getSourceJson(h, tenant.apiToken, slow)).status).toBe('FAILED');
    await expectNothingStored(slow);
  });

  it('when the stored original cannot be downloaded before the deadline then the source is FAILED saying so, with no temp file left', async () => {
    const res = await uploadFile(h, tenant.apiToken, {
      name: 'notes.txt',
      type: 'text/plain',
      bytes: 'Notes kept in the blob store, read back through a stalled connection.',
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { id: string }).id;
    const copies = await mkdtemp(join(tmpdir(), 'minirag-deadline-copies-'));
    const stalledStore: BlobStore = {
      ...h.ingestDeps.blobStore,
      async get() {
        let sent = false;
        return new Readable({
          read() {
            if (!sent) this.push(Buffer.from('Notes kept'));
            sent = true;
          },
        });
      },
    };
    const handle = createIngestApp({
      ...h.ingestDeps,
      blobStore: stalledStore,
      tempDir: copies,
      maxAttempts: 5,
    });
    const result = await handle(
      sqsEvent(sqsRecord(JSON.stringify({ tenantId: tenant.id, sourceId: id, version: 1 }))),
      {
        getRemainingTimeInMillis: () => 1_000,
      },
    );
    expect(result.batchItemFailures).toEqual([]);
    const failed = await getSourceJson(h, tenant.apiToken, id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/^Ingestion did not finish within 1 s: it was still downloading the file/);
    await expectNothingStored(id);
    expect(await readdir(copies)).toEqual([]);
    await rm(copies, { recursive: true, force: true });
  });

  it('when the local worker ingests it past INGEST_DEADLINE_SECONDS then it is FAILED once, nothing stored, and its job is done', async () => {
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = slowCalls.n;
    const slow = await source(tenant, longText(`${SLOW} again`));
    h.worker.start();
    await h.idle();
    const failed = await getSourceJson(h, tenant.apiToken, slow);
    expect(failed.status, JSON.stringify(failed)).toBe('FAILED');
    expect(failed.error).toMatch(
      /^Ingestion did not finish within 1 s: it was still embedding its \d+ chunks\./,
    );
    await expectNothingStored(slow);
    // One attempt, and no job left to try again.
    expect(await jobsFor(slow)).toBe(0);
    expect(slowCalls.n - before).toBe(1);
    release();
  });
});
