import { beforeEach, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database, Queryable } from '#shared/ports/database.ts';
import * as jobs from '#shared/repositories/jobs.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The jobs repository (the outbox and the local queue) on every database the app runs on: the API enqueues
 * through the Data API too, and the SQS relay claims and completes there; the other functions are the local
 * worker's (PGlite, PostgreSQL). Jobs are a platform table: the functions run as the system, except
 * enqueueing, which a tenant does for itself only. Each test starts from an empty table and sets run_at and
 * locked_until relative to the database's clock, so nothing waits for time to pass.
 */

type Status = 'queued' | 'running' | 'done' | 'dead';

interface Seed {
  readonly tenant?: TenantId;
  readonly status?: Status;
  readonly attempts?: number;
  readonly maxAttempts?: number;
  /** run_at, in seconds from now (negative: in the past). */
  readonly runIn?: number;
  /** locked_until, in seconds from now; null for none. */
  readonly lockIn?: number | null;
  readonly createdAt?: Date;
}

interface Row {
  id: string;
  tenant_id: string;
  kind: string;
  payload: unknown;
  status: Status;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_until: Date | null;
  /** locked_until and run_at less updated_at, in seconds: the interval each was set to by one statement. */
  lock_after_update: number | null;
  run_after_update: number;
  /** run_at less now(), in seconds. */
  run_in: number;
  updated_at: Date;
}

describe.each([...databaseKinds(), ...dataApiKinds()])('jobs repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  useTwoTenants(kind, (made) => ({ database, db, a, b } = made));
  // The functions work on every tenant's jobs at once: each test starts from an empty table.
  beforeEach(async () => {
    await database.superuser.withSystem((tx) => tx.query(sql`delete from jobs`));
  });

  /** The functions under test run as the platform does: the system, through the app's own connection. */
  const system = <T>(fn: (tx: Queryable) => Promise<T>) => db.withSystem(fn);
  const su = <T>(fn: (tx: Queryable) => Promise<T>) => database.superuser.withSystem(fn);

  const message = (tenant: TenantId = a) => ({ tenantId: tenant, sourceId: newId(), version: 1 });

  async function seed(s: Seed = {}): Promise<string> {
    const id = newId();
    const tenant = s.tenant ?? a;
    const lock =
      s.lockIn === undefined || s.lockIn === null
        ? sql`null`
        : sql`now() + make_interval(secs => ${s.lockIn}::float8)`;
    await su((tx) =>
      tx.query(sql`
        insert into jobs (id, tenant_id, kind, payload, status, attempts, max_attempts, run_at, locked_until,
          created_at, updated_at)
        values (${id}, ${tenant}, ${jobs.INGEST_JOB}, ${message(tenant)}::jsonb, ${s.status ?? 'queued'},
          ${s.attempts ?? 0}::int, ${s.maxAttempts ?? 5}::int, now() + make_interval(secs => ${s.runIn ?? -1}::float8),
          ${lock}, ${(s.createdAt ?? new Date()).toISOString()}::timestamptz, now() - interval '1 hour')`),
    );
    return id;
  }

  async function row(id: string): Promise<Row | undefined> {
    const [r] = await su((tx) =>
      tx.query<Row>(sql`
        select id, tenant_id, kind, payload, status, attempts, max_attempts, last_error, locked_until, updated_at,
          extract(epoch from locked_until - updated_at)::float8 as lock_after_update,
          extract(epoch from run_at - updated_at)::float8 as run_after_update,
          extract(epoch from run_at - now())::float8 as run_in
        from jobs where id = ${id}`),
    );
    return r;
  }
  const mustRow = async (id: string) => {
    const r = await row(id);
    expect(r, `job ${id}`).toBeDefined();
    return r!;
  };

  /** A job object as a worker holds it after claiming (only id and attempts matter to the writes). */
  const held = async (id: string): Promise<jobs.Job> => {
    const r = await mustRow(id);
    return {
      id,
      tenantId: r.tenant_id,
      kind: r.kind,
      payload: r.payload as jobs.Job['payload'],
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      createdAt: new Date(),
    };
  };

  it('when the outage budget is measured then it allows a free retry strictly before it runs out', () => {
    const createdAt = new Date('2024-05-01T12:00:00.000Z');
    const job = { createdAt } as jobs.Job;
    const t = createdAt.getTime();
    expect(jobs.outageRetryAllowed(job, 10, t)).toBe(true);
    expect(jobs.outageRetryAllowed(job, 10, t + 9_999)).toBe(true);
    expect(jobs.outageRetryAllowed(job, 10, t + 10_000)).toBe(false);
    expect(jobs.outageRetryAllowed(job, 10, t + 10_001)).toBe(false);
    expect(jobs.outageRetryAllowed(job, 0, t)).toBe(false);
    // Without `now`, the clock decides.
    expect(jobs.outageRetryAllowed({ createdAt: new Date(Date.now() - 5_000) } as jobs.Job, 60)).toBe(true);
    expect(jobs.outageRetryAllowed({ createdAt: new Date(Date.now() - 5_000) } as jobs.Job, 4)).toBe(false);
  });

  it('when a tenant enqueues an ingest job then it is stored queued and due, with the payload and attempt budget', async () => {
    const msg = { tenantId: a, sourceId: newId(), version: 3 };
    await db.withTenant(a, (tx) => jobs.enqueueIngestJob(tx, a, msg, 7));
    const rows = await su((tx) =>
      tx.query<{ id: string }>(sql`select id from jobs where payload->>'sourceId' = ${msg.sourceId}`),
    );
    expect(rows).toHaveLength(1);
    const r = await mustRow(rows[0]!.id);
    expect(r).toMatchObject({
      tenant_id: a,
      kind: 'ingest-source',
      payload: msg,
      status: 'queued',
      attempts: 0,
      max_attempts: 7,
      last_error: null,
      locked_until: null,
    });
    expect(r.run_in).toBeLessThanOrEqual(0);
    expect(jobs.INGEST_JOB).toBe('ingest-source');
    // Each enqueue is a job of its own.
    await db.withTenant(a, (tx) => jobs.enqueueIngestJob(tx, a, msg, 2));
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({ queued: 2 });
  });

  it('when a tenant enqueues for another tenant, or reads the queue, then it is refused and nothing is stored', async () => {
    await expect(db.withTenant(a, (tx) => jobs.enqueueIngestJob(tx, b, message(b), 5))).rejects.toThrow();
    await expect(db.withTenant(b, (tx) => jobs.enqueueIngestJob(tx, a, message(a), 5))).rejects.toThrow();
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({});
    await seed();
    // The app role may only insert: claiming, counting and finishing jobs are the platform's.
    await expect(db.withTenant(a, (tx) => jobs.countJobs(tx))).rejects.toThrow();
    await expect(
      db.withTenant(a, (tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 60 })),
    ).rejects.toThrow();
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({ queued: 1 });
  });

  it('when nothing is due then dueJobs reports none and no wait', async () => {
    expect(await system((tx) => jobs.dueJobs(tx))).toEqual({ count: 0, oldestWaitMs: 0 });
    await seed({ runIn: 60 });
    await seed({ status: 'running', attempts: 1, maxAttempts: 3, lockIn: 60 });
    await seed({ status: 'dead', runIn: -600 });
    await seed({ status: 'done', runIn: -600 });
    expect(await system((tx) => jobs.dueJobs(tx))).toEqual({ count: 0, oldestWaitMs: 0 });
  });

  it('when jobs are due then dueJobs counts queued ones past run_at and expired leases with attempts left, and the oldest wait', async () => {
    await seed({ runIn: -30 }); // due for 30 s
    await seed({ runIn: -5, tenant: b }); // due for 5 s, another tenant's
    await seed({ status: 'running', attempts: 1, maxAttempts: 3, lockIn: -10, runIn: -900 }); // lease out 10 s
    // Not due: in the future, lease still held, attempts used up, finished.
    await seed({ runIn: 60 });
    await seed({ status: 'running', attempts: 1, maxAttempts: 3, lockIn: 60, runIn: -900 });
    await seed({ status: 'running', attempts: 3, maxAttempts: 3, lockIn: -600, runIn: -900 });
    await seed({ status: 'running', attempts: 4, maxAttempts: 3, lockIn: -600, runIn: -900 });
    await seed({ status: 'dead', runIn: -900 });
    const due = await system((tx) => jobs.dueJobs(tx));
    expect(due.count).toBe(3);
    // The queued job's wait counts from run_at; the running one's from its lease end, not its run_at.
    expect(due.oldestWaitMs).toBeGreaterThanOrEqual(30_000);
    expect(due.oldestWaitMs).toBeLessThan(40_000);
  });

  it("when an expired lease is the oldest due job then dueJobs' wait counts from the lease end", async () => {
    await seed({ runIn: -5 });
    await seed({ status: 'running', attempts: 1, maxAttempts: 2, lockIn: -50, runIn: -900 });
    const due = await system((tx) => jobs.dueJobs(tx));
    expect(due.count).toBe(2);
    expect(due.oldestWaitMs).toBeGreaterThanOrEqual(50_000);
    expect(due.oldestWaitMs).toBeLessThan(60_000);
  });

  it('when run_at is now then the job is due; when a lease ends now it is not yet expired', async () => {
    // In one transaction now() does not move, so the boundaries are exact.
    const due = await system(async (tx) => {
      await tx.query(sql`
        insert into jobs (id, tenant_id, kind, payload, run_at) values (${newId()}, ${a}, ${jobs.INGEST_JOB},
          ${message()}::jsonb, now())`);
      await tx.query(sql`
        insert into jobs (id, tenant_id, kind, payload, status, attempts, max_attempts, locked_until)
        values (${newId()}, ${a}, ${jobs.INGEST_JOB}, ${message()}::jsonb, 'running', 1, 3, now())`);
      return jobs.dueJobs(tx);
    });
    expect(due).toEqual({ count: 1, oldestWaitMs: 0 });
    const claimed = await system(async (tx) => {
      await tx.query(sql`update jobs set run_at = now() where status = 'queued'`);
      await tx.query(sql`update jobs set locked_until = now() where status = 'running'`);
      return jobs.claimJobs(tx, { limit: 10, leaseSeconds: 60 });
    });
    expect(claimed).toHaveLength(1);
    expect(claimed[0]!.attempts).toBe(1);
  });

  it('when jobs are claimed then the oldest due ones up to the limit are leased, each counting an attempt', async () => {
    const createdAt = new Date('2024-03-04T05:06:07.089Z');
    const second = await seed({ runIn: -20, attempts: 1, maxAttempts: 4, tenant: b, createdAt });
    const third = await seed({ runIn: -10 });
    const first = await seed({ runIn: -30, maxAttempts: 2 });
    const future = await seed({ runIn: 60 });
    const done = await seed({ status: 'done', runIn: -900 });
    const dead = await seed({ status: 'dead', runIn: -900 });

    const claimed = await system((tx) => jobs.claimJobs(tx, { limit: 2, leaseSeconds: 90 }));
    expect(claimed.map((j) => j.id).sort()).toEqual([first, second].sort());
    const got = claimed.find((j) => j.id === second)!;
    expect(got).toEqual({
      id: second,
      tenantId: b,
      kind: 'ingest-source',
      payload: (await mustRow(second)).payload,
      attempts: 2,
      maxAttempts: 4,
      createdAt,
    });
    expect(got.createdAt).toBeInstanceOf(Date);
    expect(got.payload).toMatchObject({ tenantId: b, version: 1 });
    expect(claimed.find((j) => j.id === first)).toMatchObject({ tenantId: a, attempts: 1, maxAttempts: 2 });
    for (const id of [first, second]) {
      const r = await mustRow(id);
      expect(r.status).toBe('running');
      expect(r.lock_after_update).toBe(90);
      expect(r.updated_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(await mustRow(third)).toMatchObject({ status: 'queued', attempts: 0, locked_until: null });

    const rest = await system((tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 5 }));
    expect(rest.map((j) => j.id)).toEqual([third]);
    expect((await mustRow(third)).lock_after_update).toBe(5);
    expect(await system((tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 5 }))).toEqual([]);
    for (const [id, status] of [
      [future, 'queued'],
      [done, 'done'],
      [dead, 'dead'],
    ] as const) {
      expect(await mustRow(id)).toMatchObject({ status, attempts: 0, locked_until: null });
    }
  });

  it('when a claim is limited then it takes the jobs with the earliest run_at first', async () => {
    const ids = [];
    for (const runIn of [-1, -50, -3, -40, -2]) ids.push(await seed({ runIn }));
    const one = await system((tx) => jobs.claimJobs(tx, { limit: 1, leaseSeconds: 60 }));
    expect(one.map((j) => j.id)).toEqual([ids[1]]);
    const two = await system((tx) => jobs.claimJobs(tx, { limit: 2, leaseSeconds: 60 }));
    expect(two.map((j) => j.id).sort()).toEqual([ids[3], ids[2]].sort());
    expect(await system((tx) => jobs.claimJobs(tx, { limit: 0, leaseSeconds: 60 }))).toEqual([]);
  });

  it('when a lease has expired then the job is claimed again only while it has attempts left', async () => {
    const live = await seed({ status: 'running', attempts: 1, maxAttempts: 3, lockIn: 30 });
    const expired = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: -1 });
    const spent = await seed({ status: 'running', attempts: 3, maxAttempts: 3, lockIn: -1 });
    const claimed = await system((tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 60 }));
    expect(claimed.map((j) => j.id)).toEqual([expired]);
    expect(claimed[0]).toMatchObject({ attempts: 3, maxAttempts: 3 });
    expect(await mustRow(expired)).toMatchObject({ status: 'running', attempts: 3, lock_after_update: 60 });
    expect(await mustRow(live)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await mustRow(spent)).toMatchObject({ status: 'running', attempts: 3 });
    // Its lease expiring again, with no attempt left, it is not claimed a fourth time.
    await su((tx) =>
      tx.query(sql`update jobs set locked_until = now() - interval '1 second' where id = ${expired}`),
    );
    expect(await system((tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 60 }))).toEqual([]);
  });

  it('when abandoned jobs are buried then only expired leases with no attempt left become dead, and are returned', async () => {
    const queuedAt = new Date('2026-02-03T04:05:06.789Z');
    const last = await seed({
      status: 'running',
      attempts: 3,
      maxAttempts: 3,
      lockIn: -5,
      tenant: b,
      createdAt: queuedAt,
    });
    const over = await seed({ status: 'running', attempts: 4, maxAttempts: 3, lockIn: -5 });
    const left = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: -5 });
    const live = await seed({ status: 'running', attempts: 3, maxAttempts: 3, lockIn: 60 });
    const queued = await seed({ status: 'queued', attempts: 3, maxAttempts: 3, lockIn: -5 });
    const dead = await seed({ status: 'dead', attempts: 3, maxAttempts: 3, lockIn: -5 });

    const buried = await system((tx) => jobs.buryAbandonedJobs(tx, 'worker died'));
    expect(buried.map((j) => j.id).sort()).toEqual([last, over].sort());
    expect(buried.find((j) => j.id === last)).toMatchObject({
      tenantId: b,
      kind: 'ingest-source',
      payload: (await mustRow(last)).payload,
      attempts: 3,
      maxAttempts: 3,
      createdAt: queuedAt,
    });
    expect(buried.find((j) => j.id === over)).toMatchObject({ tenantId: a, attempts: 4, maxAttempts: 3 });
    for (const id of [last, over]) {
      const r = await mustRow(id);
      expect(r).toMatchObject({ status: 'dead', last_error: 'worker died', locked_until: null });
      expect(r.updated_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    }
    for (const [id, status] of [
      [left, 'running'],
      [live, 'running'],
      [queued, 'queued'],
      [dead, 'dead'],
    ] as const) {
      const r = await mustRow(id);
      expect(r.status).toBe(status);
      expect(r.last_error).toBeNull();
      expect(r.locked_until).not.toBeNull();
    }
    expect(await system((tx) => jobs.buryAbandonedJobs(tx, 'again'))).toEqual([]);
  });

  it('when a lease is extended then only a running job gets the new lease', async () => {
    const running = await seed({ status: 'running', attempts: 1, lockIn: 5 });
    const queued = await seed();
    const dead = await seed({ status: 'dead', lockIn: 5 });
    const lease = (id: string) =>
      system(async (tx) => {
        await jobs.extendJobLease(tx, id, 300);
        const [r] = await tx.query<{ s: number | null }>(
          sql`select extract(epoch from locked_until - now())::float8 as s from jobs where id = ${id}`,
        );
        return r?.s;
      });
    expect(await lease(running)).toBe(300);
    expect(await lease(queued)).toBeNull();
    const deadLease = await lease(dead);
    expect(deadLease).toBeGreaterThan(0);
    expect(deadLease).toBeLessThanOrEqual(5);
    expect(await mustRow(running)).toMatchObject({ status: 'running', attempts: 1 });
    await system((tx) => jobs.extendJobLease(tx, newId(), 300));
  });

  it('when a job is completed then that job alone is removed', async () => {
    const done = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    const other = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    await system((tx) => jobs.completeJob(tx, done));
    expect(await row(done)).toBeUndefined();
    expect(await mustRow(other)).toMatchObject({ status: 'running' });
    await system((tx) => jobs.completeJob(tx, done));
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({ running: 1 });
  });

  it('when a job fails with attempts left then it is queued again after the backoff, keeping its attempts', async () => {
    const id = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: 60 });
    const other = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: 60 });
    const job = await held(id);
    expect(await system((tx) => jobs.failJob(tx, job, 'boom', 45))).toBe('retry');
    const r = await mustRow(id);
    expect(r).toMatchObject({
      status: 'queued',
      attempts: 2,
      last_error: 'boom',
      locked_until: null,
      run_after_update: 45,
    });
    expect(r.updated_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await mustRow(other)).toMatchObject({ status: 'running', last_error: null });
  });

  it('when a job fails on its last attempt then it is dead at once, however long the backoff', async () => {
    const last = await seed({ status: 'running', attempts: 3, maxAttempts: 3, lockIn: 60 });
    const over = await seed({ status: 'running', attempts: 4, maxAttempts: 3, lockIn: 60 });
    for (const id of [last, over]) {
      expect(await held(id).then((job) => system((tx) => jobs.failJob(tx, job, 'fatal', 45)))).toBe('dead');
      expect(await mustRow(id)).toMatchObject({
        status: 'dead',
        last_error: 'fatal',
        locked_until: null,
        run_after_update: 0,
      });
    }
  });

  it('when a failure or outage message is long then the first 2000 characters are stored', async () => {
    const long = `${'a'.repeat(1_999)}bc${'d'.repeat(500)}`;
    const exact = 'e'.repeat(2_000);
    const failed = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    await held(failed).then((job) => system((tx) => jobs.failJob(tx, job, long, 1)));
    expect((await mustRow(failed)).last_error).toBe(`${'a'.repeat(1_999)}b`);
    const failedExact = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    await held(failedExact).then((job) => system((tx) => jobs.failJob(tx, job, exact, 1)));
    expect((await mustRow(failedExact)).last_error).toBe(exact);
    const outage = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    await held(outage).then((job) => system((tx) => jobs.requeueAfterOutage(tx, job, long, 1)));
    expect((await mustRow(outage)).last_error).toBe(`${'a'.repeat(1_999)}b`);
    const outageExact = await seed({ status: 'running', attempts: 1, lockIn: 60 });
    await held(outageExact).then((job) => system((tx) => jobs.requeueAfterOutage(tx, job, exact, 1)));
    expect((await mustRow(outageExact)).last_error).toBe(exact);
  });

  it('when a job is requeued after an outage then its attempt is not counted and it waits the backoff', async () => {
    const id = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: 60 });
    const other = await seed({ status: 'running', attempts: 2, maxAttempts: 3, lockIn: 60 });
    await held(id).then((job) => system((tx) => jobs.requeueAfterOutage(tx, job, 'database down', 30)));
    const r = await mustRow(id);
    expect(r).toMatchObject({
      status: 'queued',
      attempts: 1,
      last_error: 'database down',
      locked_until: null,
      run_after_update: 30,
    });
    expect(r.updated_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await mustRow(other)).toMatchObject({ status: 'running', attempts: 2, last_error: null });
    // Attempts never go below zero.
    const fresh = await seed({ status: 'running', attempts: 0, lockIn: 60 });
    await held(fresh).then((job) => system((tx) => jobs.requeueAfterOutage(tx, job, 'down', 30)));
    expect(await mustRow(fresh)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('when an outage requeue comes after the worker lost the job then nothing changes', async () => {
    // Another worker claimed it again (a higher attempt number) after this worker's lease expired.
    const reclaimed = await seed({ status: 'running', attempts: 3, maxAttempts: 5, lockIn: 60 });
    const stale = { ...(await held(reclaimed)), attempts: 2 };
    await system((tx) => jobs.requeueAfterOutage(tx, stale, 'late', 30));
    // It was already given back, or finished as dead.
    const queued = await seed({ status: 'queued', attempts: 2, runIn: -5 });
    const dead = await seed({ status: 'dead', attempts: 2 });
    for (const id of [queued, dead]) {
      await held(id).then((job) => system((tx) => jobs.requeueAfterOutage(tx, job, 'late', 30)));
    }
    expect(await mustRow(reclaimed)).toMatchObject({ status: 'running', attempts: 3, last_error: null });
    expect((await mustRow(reclaimed)).lock_after_update).toBeGreaterThan(3_000);
    expect(await mustRow(queued)).toMatchObject({ status: 'queued', attempts: 2, last_error: null });
    expect((await mustRow(queued)).run_in).toBeLessThan(0);
    expect(await mustRow(dead)).toMatchObject({ status: 'dead', attempts: 2, last_error: null });
  });

  it('when a running job is released then it is queued again without counting the attempt; other jobs are not touched', async () => {
    const id = await seed({ status: 'running', attempts: 2, lockIn: 60, runIn: -30 });
    const other = await seed({ status: 'running', attempts: 2, lockIn: 60 });
    await system((tx) => jobs.releaseJob(tx, id));
    const r = await mustRow(id);
    expect(r).toMatchObject({ status: 'queued', attempts: 1, locked_until: null });
    expect(r.run_in).toBeLessThan(-29); // due at once, as before
    expect(r.updated_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await mustRow(other)).toMatchObject({ status: 'running', attempts: 2 });
    const fresh = await seed({ status: 'running', attempts: 0, lockIn: 60 });
    await system((tx) => jobs.releaseJob(tx, fresh));
    expect(await mustRow(fresh)).toMatchObject({ status: 'queued', attempts: 0 });
    const queued = await seed({ status: 'queued', attempts: 2 });
    const dead = await seed({ status: 'dead', attempts: 2, lockIn: 60 });
    await system((tx) => jobs.releaseJob(tx, queued));
    await system((tx) => jobs.releaseJob(tx, dead));
    expect(await mustRow(queued)).toMatchObject({ status: 'queued', attempts: 2 });
    expect(await mustRow(dead)).toMatchObject({ status: 'dead', attempts: 2 });
    expect((await mustRow(dead)).locked_until).not.toBeNull();
  });

  it('when jobs are counted then each status present has its number, across tenants', async () => {
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({});
    await seed();
    await seed({ tenant: b });
    await seed({ status: 'running', attempts: 1, lockIn: 60 });
    for (let i = 0; i < 3; i++) await seed({ status: 'dead', tenant: b });
    expect(await system((tx) => jobs.countJobs(tx))).toEqual({ queued: 2, running: 1, dead: 3 });
  });

  it('when abandoned jobs are requeued at start-up then every running lease ends now, to be claimed or buried', async () => {
    const left = await seed({ status: 'running', attempts: 1, maxAttempts: 3, lockIn: 300 });
    const spent = await seed({ status: 'running', attempts: 3, maxAttempts: 3, lockIn: 300 });
    const queued = await seed({ runIn: 60 });
    const dead = await seed({ status: 'dead', lockIn: 300 });
    expect(await system((tx) => jobs.requeueAbandonedJobs(tx))).toBe(2);
    for (const id of [left, spent]) {
      expect(await mustRow(id)).toMatchObject({ status: 'running', lock_after_update: -1 });
    }
    expect(await mustRow(queued)).toMatchObject({ status: 'queued', locked_until: null });
    expect((await mustRow(dead)).lock_after_update).toBeGreaterThan(3_000);
    const claimed = await system((tx) => jobs.claimJobs(tx, { limit: 10, leaseSeconds: 60 }));
    expect(claimed.map((j) => j.id)).toEqual([left]);
    const buried = await system((tx) => jobs.buryAbandonedJobs(tx, 'abandoned'));
    expect(buried.map((j) => j.id)).toEqual([spent]);
    expect(await system((tx) => jobs.requeueAbandonedJobs(tx))).toBe(1);
  });
});
