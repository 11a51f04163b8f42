import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobWorker, type JobWorker } from '#shared/adapters/local-queue/job-worker.ts';
import { abandonedIngestHandler, ingestJobHandler } from '#shared/composition/ingest-deps.ts';
import { sql } from '#shared/db/sql.ts';
import type { Database } from '#shared/ports/database.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
import { claimJobs, enqueueIngestJob, type Job, requeueAbandonedJobs } from '#shared/repositories/jobs.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { getSourceJson, type IngestHarness, startIngestHarness } from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

interface JobRow {
  status: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_until: Date | null;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(databaseKinds())('local job worker on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let tenant: TestTenant;
  const workers: JobWorker[] = [];

  beforeAll(async () => {
    database = await kind.create();
    h = await startIngestHarness(database, { startWorker: false });
    tenant = await createTestTenant(h.api, 'queue');
  });
  // One worker per test: a leftover one would claim (and finish) the next test's jobs.
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop(1_000);
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const db = () => h.platform.db;
  const jobRow = async (id: string) =>
    (
      await db().withSystem((tx) =>
        tx.query<JobRow>(
          sql`select status, attempts, max_attempts, last_error, locked_until from jobs where id = ${id}`,
        ),
      )
    )[0];
  /** One queued job of the tenant (the app role may only insert; read back as the system). */
  async function enqueue(maxAttempts = 5): Promise<string> {
    const sourceId = crypto.randomUUID();
    await db().withTenant(tenant.id, (tx) =>
      enqueueIngestJob(tx, tenant.id, { tenantId: tenant.id, sourceId, version: 1 }, maxAttempts),
    );
    const [row] = await db().withSystem((tx) =>
      tx.query<{ id: string; max_attempts: number }>(
        sql`select id, max_attempts from jobs where payload->>'sourceId' = ${sourceId}`,
      ),
    );
    expect(row!.max_attempts).toBe(maxAttempts);
    return row!.id;
  }
  function worker(options: Omit<Parameters<typeof createJobWorker>[0], 'db' | 'logger'> & { db?: Database }) {
    const created = createJobWorker({ db: db(), logger: h.platform.logger, pollMs: 20, ...options });
    workers.push(created);
    created.start();
    return created;
  }

  /** The ingest job handler with an embedder that records every request's texts. */
  function recordingIngest() {
    const requests: string[][] = [];
    const embedder: Embedder = {
      ...h.platform.embedder,
      embed: (texts, options) => {
        requests.push([...texts]);
        return h.platform.embedder.embed(texts, options);
      },
    };
    const ingest = ingestJobHandler({ ...h.ingestDeps, embedder }, 3600);
    const handle = async (job: Job, claimedWith: readonly Job[]) => void (await ingest(job, claimedWith));
    return { requests, handle };
  }

  it('when a worker died holding a job then another worker claims it again once the lease is over', async () => {
    const post = (n: number) =>
      call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: { title: `orphan ${n}`, type: 'text', content: `Orphaned job number ${n} still gets done.` },
      });
    const [first, second] = [(await post(1)).body.id, (await post(2)).body.id];
    // Worker 1 claims both jobs and dies: one lease is zero seconds long, the other is pushed into the past.
    const claimed = await db().withSystem((tx) => claimJobs(tx, { limit: 10, leaseSeconds: 0 }));
    expect(claimed).toHaveLength(2);
    await db().withSystem((tx) =>
      tx.query(sql`update jobs set locked_until = now() - interval '1 minute'
        where payload->>'sourceId' = ${second}`),
    );

    h.worker.start(); // worker 2
    for (const id of [first, second]) {
      await waitFor('the orphaned source', async () => {
        const source = await getSourceJson(h, tenant.apiToken, id);
        return source.status === 'COMPLETED' ? source : undefined;
      });
    }
    await h.worker.idle(); // a job's row goes a moment after its source is COMPLETED
    const left = await db().withSystem((tx) => tx.query(sql`select id from jobs`));
    expect(left).toEqual([]);
    await h.worker.stop(1_000);
  });

  it('when the process died during the last attempt of a job then after a restart it is dead and its source FAILED, not run again', async () => {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: 'poison', type: 'text', content: 'A document that killed the worker on every attempt.' },
    });
    const sourceId = res.body.id as string;
    const [job] = await db().withSystem((tx) =>
      tx.query<{ id: string; max_attempts: number }>(
        sql`select id, max_attempts from jobs where payload->>'sourceId' = ${sourceId}`,
      ),
    );
    // Every attempt is claimed and then cut off by a crash: a lease nobody renews, here already run out (a
    // zero-second lease alone may still end "now" for the next claim within the same clock tick).
    for (let attempt = 1; attempt <= job!.max_attempts; attempt++) {
      const [claimed] = await db().withSystem((tx) => claimJobs(tx, { limit: 1, leaseSeconds: 0 }));
      expect(claimed).toMatchObject({ id: job!.id, attempts: attempt });
      await db().withSystem((tx) =>
        tx.query(sql`update jobs set locked_until = now() - interval '1 minute' where id = ${job!.id}`),
      );
    }
    // The restart, as `minirag serve` does it on PGlite; then the worker runs.
    await db().withSystem((tx) => requeueAbandonedJobs(tx));
    const ran: string[] = [];
    const restarted = worker({
      abandoned: abandonedIngestHandler(h.ingestDeps),
      handle: async (claimed: Job) => void ran.push(claimed.id),
    });
    await restarted.idle();
    expect(ran).not.toContain(job!.id);
    expect(await jobRow(job!.id)).toMatchObject({ status: 'dead', attempts: job!.max_attempts });
    expect(await getSourceJson(h, tenant.apiToken, sourceId)).toMatchObject({
      status: 'FAILED',
      error:
        'The ingestion was cut off (the process stopped while it ran) on its last attempt, so it is not tried again.',
    });
  });

  it('when sources are queued before the worker runs then a claimed group shares its embedding requests', async () => {
    const { requests, handle } = recordingIngest();
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: {
          title: `grouped ${n}`,
          type: 'text',
          content: `Grouped note ${n}: the chiller runs at ${n} bar.`,
        },
      });
      ids.push(res.body.id);
    }
    const grouped = worker({ groupSize: 4, concurrency: 1, handle });
    await grouped.idle();
    for (const id of ids) expect((await getSourceJson(h, tenant.apiToken, id)).status).toBe('COMPLETED');
    // Six one-chunk sources claimed 4 + 2: two requests, where one source at a time would have made six.
    expect(requests.map((r) => r.length)).toEqual([4, 2]);
  });

  it('when sources arrive one by one within the group window then they are claimed as one group once it is full', async () => {
    const { requests, handle } = recordingIngest();
    // A window far longer than the uploads take: the group goes out because it is full, not on a timer.
    const windowed = worker({
      groupSize: 5,
      groupWindowMs: 20_000,
      concurrency: 1,
      handle,
    });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: {
          title: `trickle ${n}`,
          type: 'text',
          content: `Trickled note ${n}: the boiler holds ${n} bar.`,
        },
      });
      ids.push(res.body.id);
      windowed.wake(); // as the local queue does after each enqueue
    }
    await windowed.idle();
    for (const id of ids) expect((await getSourceJson(h, tenant.apiToken, id)).status).toBe('COMPLETED');
    // Without the window the first upload would have been claimed alone the moment it arrived.
    expect(requests.map((r) => r.length)).toEqual([5]);
  });

  it('when a partial group has waited the whole window then it is claimed anyway', async () => {
    const windowed = worker({
      groupSize: 10,
      groupWindowMs: 300,
      concurrency: 1,
      handle: recordingIngest().handle,
    });
    const started = Date.now();
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: 'alone', type: 'text', content: 'A lone note: the pump is primed weekly.' },
    });
    windowed.wake();
    await windowed.idle();
    expect((await getSourceJson(h, tenant.apiToken, res.body.id)).status).toBe('COMPLETED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250); // it did wait for company first
  });

  it('when a job keeps failing then it is retried after a backoff and is dead after max attempts', async () => {
    const id = await enqueue(3);
    const calls: { at: number; attempt: number }[] = [];
    const backoff = (attempt: number) => 0.15 * attempt;
    worker({
      backoffSeconds: backoff,
      handle: async (job: Job) => {
        if (job.id !== id) return;
        calls.push({ at: performance.now(), attempt: job.attempts });
        throw new Error(`provider still down (attempt ${job.attempts})`);
      },
    });
    const dead = await waitFor('the dead job', async () => {
      const row = await jobRow(id);
      return row?.status === 'dead' ? row : undefined;
    });
    expect(dead).toMatchObject({
      attempts: 3,
      last_error: 'provider still down (attempt 3)',
      locked_until: null,
    });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // Each retry waited at least its backoff (10 ms slack for the two clocks).
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(backoff(1) * 1000 - 10);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(backoff(2) * 1000 - 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toHaveLength(3); // a dead job is never claimed again
  });

  it('when the worker stops with a grace period then a job still running goes back to the queue', async () => {
    const id = await enqueue();
    let started = false;
    let finish: () => void = () => {};
    const blocked = worker({
      handle: (job: Job) => {
        if (job.id !== id) return Promise.resolve();
        started = true;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });
    await waitFor('the job to start', async () => (started ? true : undefined));
    expect(await jobRow(id)).toMatchObject({ status: 'running', attempts: 1 });

    await blocked.stop(50);
    // Handed back without counting the attempt, claimable at once by the next worker.
    expect(await jobRow(id)).toMatchObject({ status: 'queued', attempts: 0, locked_until: null });
    finish();
  });

  it('when the worker stops and the job ends within the grace period then it completes normally', async () => {
    const id = await enqueue();
    let started = false;
    const quick = worker({
      handle: async (job: Job) => {
        if (job.id !== id) return;
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });
    await waitFor('the job to start', async () => (started ? true : undefined));
    await quick.stop(2_000);
    expect(await jobRow(id)).toBeUndefined();
  });

  it('when the database fails while a failed job is recorded then the worker survives and the job is retried', async () => {
    const id = await enqueue();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let broken = false;
    const flaky: Database = {
      ...db(),
      withSystem: (fn) => (broken ? Promise.reject(new Error('connection terminated')) : db().withSystem(fn)),
    };
    const attempts: number[] = [];
    try {
      worker({
        db: flaky,
        leaseSeconds: 1,
        handle: async (job: Job) => {
          if (job.id !== id) return;
          attempts.push(job.attempts);
          if (attempts.length > 1) return;
          broken = true; // the database goes away right when the failure is to be written down
          setTimeout(() => {
            broken = false;
          }, 100);
          throw new Error('ingest failed');
        },
      });
      await waitFor('the retried job to complete', async () => ((await jobRow(id)) ? undefined : true));
      expect(attempts).toEqual([1, 2]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(h.platform.logger.lines.some((l) => l.includes('job outcome not written yet'))).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('when idle() is asked while a poll that began before the enqueue is still running then it waits for the job', async () => {
    // The poll's claim query sees an empty queue, then is held back until the job is enqueued and idle() asked:
    // that poll's "nothing to do" is stale and must not resolve the waiter (it did once, flaking CI).
    let release: (() => void) | undefined;
    let stale: Promise<void> | undefined;
    let queryDone: (() => void) | undefined;
    const queried = new Promise<void>((resolve) => {
      queryDone = resolve;
    });
    const held: Database = {
      ...db(),
      withSystem: async (fn) => {
        const result = await db().withSystem(fn);
        if (!stale) {
          stale = new Promise((resolve) => {
            release = resolve;
          });
          queryDone?.();
          await stale;
        }
        return result;
      },
    };
    const handled: string[] = [];
    const w = worker({
      db: held,
      pollMs: 60_000,
      handle: async (job: Job) => {
        handled.push(job.id);
      },
    });
    await queried;
    const id = await enqueue();
    const idle = w.idle();
    release?.();
    await idle;
    expect(handled).toContain(id);
  });
});
