import { errorLogFields } from '../../domain/error-log.ts';
import { serviceUnavailableIn } from '../../domain/errors.ts';
import type { Database, SystemQueryable } from '../../ports/database.ts';
import type { Logger } from '../../ports/logger.ts';
import {
  buryAbandonedJobs,
  claimJobs,
  completeJob,
  dueJobs,
  extendJobLease,
  failJob,
  type Job,
  outageRetryAllowed,
  releaseJob,
  requeueAfterOutage,
} from '../../repositories/jobs.ts';

export interface JobWorkerOptions {
  readonly db: Database;
  readonly logger: Logger;
  /**
   * Runs one job. Resolves = done; throws = retry later (or dead after the last attempt). `claimedWith` is
   * the group of jobs claimed together (this one included), all running at once: the ingest shares
   * embedding requests within it.
   */
  readonly handle: (job: Job, claimedWith: readonly Job[]) => Promise<void>;
  /**
   * Called for a job whose worker died during its last attempt (a crash, an out-of-memory kill): it is dead
   * without running again, and this records why where its owner will see it.
   */
  readonly abandoned?: (job: Job, reason: string) => Promise<void>;
  /** Groups running at once. */
  readonly concurrency?: number;
  /** Jobs claimed together as one group (default 1). */
  readonly groupSize?: number;
  /**
   * How long a partial group may wait for more jobs, as SQS's batching window does (default 0: claim at
   * once). Sources uploaded one after another then land in one group and share embedding requests.
   */
  readonly groupWindowMs?: number;
  readonly pollMs?: number;
  readonly leaseSeconds?: number;
  readonly backoffSeconds?: (attempt: number) => number;
  /**
   * For how long after it was queued a job failing because the database or vector store is unavailable
   * goes back to the queue without spending an attempt (default 3600 s).
   */
  readonly outageRetrySeconds?: number;
  /** The wait before such a job runs again (default 2–3 s: the pump finds the database back at once). */
  readonly outageBackoffSeconds?: () => number;
}

export interface JobWorker {
  start(): void;
  /** Wakes the worker now (after an enqueue) instead of at the next poll. */
  wake(): void;
  /** Stops claiming, waits for running jobs (or returns them to the queue after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when no job is due or running (tests, the CLI's `ingest --wait`). */
  idle(): Promise<void>;
}

const ABANDONED =
  'The ingestion was cut off (the process stopped while it ran) on its last attempt, so it is not tried again.';

const defaultBackoff = (attempt: number) => Math.min(300, 2 ** attempt) + Math.random();
const defaultOutageBackoff = () => 2 + Math.random();

/**
 * The local queue's consumer: claims jobs from the `jobs` table (SKIP LOCKED, leases), runs them with
 * bounded concurrency, retries with exponential backoff, dead-letters after the last attempt. A job whose
 * worker was killed is claimed again when its lease expires, so nothing is lost on a crash.
 */
export function createJobWorker(options: JobWorkerOptions): JobWorker {
  const concurrency = options.concurrency ?? 2;
  const groupSize = options.groupSize ?? 1;
  const groupWindowMs = groupSize > 1 ? (options.groupWindowMs ?? 0) : 0;
  let windowTimer: NodeJS.Timeout | undefined;
  const pollMs = options.pollMs ?? 1000;
  // Short leases (renewed every third of one) so a crashed worker's job is picked up within seconds.
  const leaseSeconds = options.leaseSeconds ?? 30;
  const backoff = options.backoffSeconds ?? defaultBackoff;
  const outageRetrySeconds = options.outageRetrySeconds ?? 3600;
  const outageBackoff = options.outageBackoffSeconds ?? defaultOutageBackoff;
  // Outcomes of finished jobs that could not be written (the database was down). The pump writes them
  // before it claims anything, so a job whose lease ran out during the outage is requeued by its own
  // outcome (keeping its attempt) rather than claimed again as if its worker had died.
  let unwritten: { jobId: string; write: (tx: SystemQueryable) => Promise<unknown> }[] = [];
  const running = new Map<string, Promise<void>>();
  let groupsRunning = 0;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let pumpAgain = false;
  // Each idle waiter remembers how many pumps had started when it registered: only a pump that started
  // later may resolve it, because an earlier one may have looked at the queue before the caller's enqueue.
  let pumpsStarted = 0;
  let idleWaiters: { registeredAfter: number; resolve: () => void }[] = [];
  // Jobs ended so far. A pump that finds nothing to claim answers the idle waiters only if no job ended
  // while it looked: its claim may have read the queue before that job's retry was committed.
  let jobsEnded = 0;

  async function run(job: Job, claimedWith: readonly Job[]): Promise<void> {
    // Renew the lease while the job runs, so a slow ingest is not taken over by another worker.
    const heartbeat = setInterval(
      () => void options.db.withSystem((tx) => extendJobLease(tx, job.id, leaseSeconds)).catch(() => {}),
      (leaseSeconds * 1000) / 3,
    );
    let outcome: (tx: SystemQueryable) => Promise<unknown>;
    try {
      await options.handle(job, claimedWith);
      outcome = (tx) => completeJob(tx, job.id);
    } catch (error) {
      outcome = failureOutcome(job, error);
    } finally {
      clearInterval(heartbeat);
    }
    try {
      await options.db.withSystem(outcome);
    } catch (error) {
      // Nobody awaits this promise, so a throw would be an unhandled rejection that ends the process.
      unwritten.push({ jobId: job.id, write: outcome });
      options.logger.error('job outcome not written yet; written once the database answers', {
        jobId: job.id,
        ...errorLogFields(error),
      });
    }
  }

  function failureOutcome(job: Job, error: unknown): (tx: SystemQueryable) => Promise<unknown> {
    const reason = error instanceof Error ? error.message : String(error);
    if (serviceUnavailableIn(error) && outageRetryAllowed(job, outageRetrySeconds)) {
      const wait = outageBackoff();
      options.logger.warn('job waits out an outage', { jobId: job.id, attempt: job.attempts, reason, wait });
      return (tx) => requeueAfterOutage(tx, job, reason, wait);
    }
    return async (tx) => {
      const outcome = await failJob(tx, job, reason, backoff(job.attempts));
      options.logger.warn('job failed', { jobId: job.id, attempt: job.attempts, outcome, reason });
    };
  }

  /** Writes the outcomes an outage held back; throws (and claims nothing) while the database is still down. */
  async function writeHeldOutcomes(): Promise<void> {
    while (unwritten.length > 0) {
      const [next] = unwritten;
      await options.db.withSystem(next!.write);
      unwritten = unwritten.filter((u) => u !== next);
    }
  }

  /** Nothing was claimable: resolve the idle waiters that this pump may answer (see idle()). */
  function settleIdleWaiters(pumpNumber: number, endedBefore: number): void {
    if (running.size > 0 || unwritten.length > 0 || jobsEnded !== endedBefore) return;
    const due = idleWaiters.filter((w) => w.registeredAfter < pumpNumber);
    idleWaiters = idleWaiters.filter((w) => w.registeredAfter >= pumpNumber);
    for (const w of due) w.resolve();
  }

  /** With a group window: whether to wait for more jobs (and wake when the oldest due one has waited enough). */
  async function waitForFullerGroup(): Promise<'empty' | 'wait' | 'claim'> {
    if (groupWindowMs === 0) return 'claim';
    const due = await options.db.withSystem((tx) => dueJobs(tx));
    if (due.count === 0) return 'empty';
    if (due.count >= groupSize || due.oldestWaitMs >= groupWindowMs) return 'claim';
    windowTimer ??= setTimeout(
      () => {
        windowTimer = undefined;
        wake();
      },
      Math.max(1, groupWindowMs - due.oldestWaitMs),
    );
    return 'wait';
  }

  /** Dead-letters jobs whose worker died on their last attempt, so they cannot crash-loop the worker. */
  async function buryAbandoned(): Promise<void> {
    const buried = await options.db.withSystem((tx) => buryAbandonedJobs(tx, ABANDONED));
    for (const job of buried) {
      options.logger.error('job abandoned: its worker stopped during the last attempt', {
        jobId: job.id,
        attempts: job.attempts,
      });
      await options
        .abandoned?.(job, ABANDONED)
        .catch((error: unknown) =>
          options.logger.error('recording an abandoned job failed', { jobId: job.id, error: String(error) }),
        );
    }
  }

  async function pump(): Promise<void> {
    const pumpNumber = ++pumpsStarted;
    const endedBefore = jobsEnded;
    await writeHeldOutcomes();
    await buryAbandoned();
    while (!stopping) {
      if (groupsRunning >= concurrency) return;
      const ready = await waitForFullerGroup();
      if (ready === 'wait') return;
      const jobs =
        ready === 'empty'
          ? []
          : await options.db.withSystem((tx) => claimJobs(tx, { limit: groupSize, leaseSeconds }));
      if (jobs.length === 0) {
        settleIdleWaiters(pumpNumber, endedBefore);
        return;
      }
      groupsRunning++;
      let left = jobs.length;
      for (const job of jobs) {
        const task = run(job, jobs).finally(() => {
          running.delete(job.id);
          jobsEnded++;
          // The group's slot frees up when its last job ends (a group is claimed and embedded together).
          if (--left === 0) {
            groupsRunning--;
            wake();
          }
        });
        running.set(job.id, task);
      }
    }
  }

  function wake(): void {
    if (stopping) return;
    if (pumping) {
      // A pump is already looking at the queue, possibly from before this wake's enqueue: look again after it.
      pumpAgain = true;
      return;
    }
    pumping = (async () => {
      do {
        pumpAgain = false;
        await pump().catch((error: unknown) =>
          options.logger.error('job worker poll failed', errorLogFields(error)),
        );
      } while (pumpAgain && !stopping);
    })().finally(() => {
      pumping = undefined;
    });
  }

  return {
    start() {
      stopping = false;
      timer = setInterval(wake, pollMs);
      timer.unref();
      wake();
    },
    wake,
    async stop(graceMs = 10_000) {
      stopping = true;
      if (timer) clearInterval(timer);
      clearTimeout(windowTimer);
      windowTimer = undefined;
      const all = Promise.allSettled([...running.values()]);
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise((r) => setTimeout(() => r(true), graceMs)),
      ]);
      if (timedOut) {
        // Hand unfinished jobs back now rather than waiting for their leases to expire.
        await options.db.withSystem(async (tx) => {
          for (const id of running.keys()) await releaseJob(tx, id);
        });
      }
      await pumping;
    },
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push({ registeredAfter: pumpsStarted, resolve });
        wake();
      });
    },
  };
}
