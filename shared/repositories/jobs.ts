import { sql } from '../db/sql.ts';
import { newId, type TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import type { IngestMessage } from '../ports/ingest-queue.ts';

export const INGEST_JOB = 'ingest-source';

export interface Job {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: string;
  readonly payload: IngestMessage;
  readonly attempts: number;
  readonly maxAttempts: number;
  /** When it was queued: an outage is waited out for free only within a budget from then. */
  readonly createdAt: Date;
}

interface JobRow {
  id: string;
  tenant_id: string;
  kind: string;
  payload: IngestMessage;
  attempts: number;
  max_attempts: number;
  created_at: Date;
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  tenantId: r.tenant_id,
  kind: r.kind,
  payload: r.payload,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  createdAt: r.created_at,
});

/**
 * Whether an outage of the database or vector store may still send the job back without spending an
 * attempt: for `budgetSeconds` after it was queued. After that an outage counts like any other failure, so
 * a job can never circle forever.
 */
export function outageRetryAllowed(job: Job, budgetSeconds: number, now = Date.now()): boolean {
  return now - job.createdAt.getTime() < budgetSeconds * 1000;
}

/**
 * Adds an ingest job inside the caller's tenant transaction (the outbox write). The app role may only
 * insert (no `returning`: it has no SELECT on jobs).
 */
export async function enqueueIngestJob(
  tx: Queryable,
  tenantId: TenantId,
  message: IngestMessage,
  maxAttempts: number,
): Promise<void> {
  await tx.query(sql`
    insert into jobs (id, tenant_id, kind, payload, max_attempts)
    values (${newId()}, ${tenantId}, ${INGEST_JOB}, ${message}::jsonb, ${maxAttempts})`);
}

/** How many jobs are due now, and how long the oldest of them has been due (what a claim would take). */
export async function dueJobs(tx: Queryable): Promise<{ count: number; oldestWaitMs: number }> {
  const [row] = await tx.query<{ count: number; oldest_wait_ms: number | null }>(sql`
    select count(*)::int as count,
           (extract(epoch from now() - min(case when status = 'queued' then run_at else locked_until end)) * 1000)::float8
             as oldest_wait_ms
    from jobs
    where (status = 'queued' and run_at <= now())
       or (status = 'running' and locked_until < now() and attempts < max_attempts)`);
  return { count: row?.count ?? 0, oldestWaitMs: row?.oldest_wait_ms ?? 0 };
}

/**
 * Claims due jobs for one worker (platform scope): queued jobs whose time has come, and running jobs
 * whose lease expired because their worker died (that run counted as an attempt when it was claimed) and
 * that have attempts left. SKIP LOCKED lets several workers claim concurrently.
 */
export async function claimJobs(
  tx: Queryable,
  options: { limit: number; leaseSeconds: number },
): Promise<Job[]> {
  const rows = await tx.query<JobRow>(sql`
    update jobs set status = 'running', attempts = attempts + 1,
      locked_until = now() + make_interval(secs => ${options.leaseSeconds}), updated_at = now()
    where id in (
      select id from jobs
      where (status = 'queued' and run_at <= now())
         or (status = 'running' and locked_until < now() and attempts < max_attempts)
      order by run_at
      limit ${options.limit}
      for update skip locked)
    returning id, tenant_id, kind, payload, attempts, max_attempts, created_at`);
  return rows.map(toJob);
}

/**
 * Dead-letters running jobs whose worker died during their last attempt (lease expired, no attempts left)
 * and returns them. Without this a document that kills the process would be claimed again on every
 * restart, and kill it again.
 */
export async function buryAbandonedJobs(tx: Queryable, reason: string): Promise<Job[]> {
  const rows = await tx.query<JobRow>(sql`
    update jobs set status = 'dead', last_error = ${reason}, locked_until = null, updated_at = now()
    where id in (
      select id from jobs
      where status = 'running' and locked_until < now() and attempts >= max_attempts
      for update skip locked)
    returning id, tenant_id, kind, payload, attempts, max_attempts, created_at`);
  return rows.map(toJob);
}

/** Keeps a long job's lease alive so no other worker takes it over. */
export async function extendJobLease(tx: Queryable, id: string, leaseSeconds: number): Promise<void> {
  await tx.query(sql`
    update jobs set locked_until = now() + make_interval(secs => ${leaseSeconds})
    where id = ${id} and status = 'running'`);
}

export async function completeJob(tx: Queryable, id: string): Promise<void> {
  await tx.query(sql`delete from jobs where id = ${id}`);
}

/** Back to the queue after an exponential backoff, or to the dead-letter state after the last attempt. */
export async function failJob(
  tx: Queryable,
  job: Job,
  error: string,
  backoffSeconds: number,
): Promise<'retry' | 'dead'> {
  const dead = job.attempts >= job.maxAttempts;
  await tx.query(sql`
    update jobs set status = ${dead ? 'dead' : 'queued'}, last_error = ${error.slice(0, 2000)}, locked_until = null,
      run_at = now() + make_interval(secs => ${dead ? 0 : backoffSeconds}), updated_at = now()
    where id = ${job.id}`);
  return dead ? 'dead' : 'retry';
}

/**
 * Back to the queue after `backoffSeconds` without counting the attempt: the database or the vector store
 * was down, which says nothing about the job. Only while this worker still holds it (same attempt number),
 * so a late write after an outage cannot undo another worker's claim.
 */
export async function requeueAfterOutage(
  tx: Queryable,
  job: Job,
  error: string,
  backoffSeconds: number,
): Promise<void> {
  await tx.query(sql`
    update jobs set status = 'queued', attempts = greatest(attempts - 1, 0), last_error = ${error.slice(0, 2000)},
      locked_until = null, run_at = now() + make_interval(secs => ${backoffSeconds}), updated_at = now()
    where id = ${job.id} and status = 'running' and attempts = ${job.attempts}`);
}

/** Returns running jobs to the queue without counting an attempt (graceful shutdown). */
export async function releaseJob(tx: Queryable, id: string): Promise<void> {
  await tx.query(sql`
    update jobs set status = 'queued', attempts = greatest(attempts - 1, 0), locked_until = null, updated_at = now()
    where id = ${id} and status = 'running'`);
}

export async function countJobs(tx: Queryable): Promise<Record<string, number>> {
  const rows = await tx.query<{ status: string; n: number }>(
    sql`select status, count(*)::int as n from jobs group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Ends the leases of every running job at once, so the worker takes them up now rather than when the leases
 * run out: claimed again if they have attempts left, dead-lettered if not (the interrupted run counted as
 * an attempt). Only for a database no other worker can be using (PGlite: one process owns the data
 * directory), where "running" at start-up means "its worker died".
 */
export async function requeueAbandonedJobs(tx: Queryable): Promise<number> {
  const rows = await tx.query(sql`
    update jobs set locked_until = now() - interval '1 second', updated_at = now()
    where status = 'running' returning id`);
  return rows.length;
}
