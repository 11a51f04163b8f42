import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Database } from '../../ports/database.ts';
import type { IngestQueue } from '../../ports/ingest-queue.ts';
import type { Logger } from '../../ports/logger.ts';
import { claimJobs, completeJob, type Job } from '../../repositories/jobs.ts';

export interface SqsIngestQueueOptions {
  readonly db: Database;
  readonly queueUrl: string;
  readonly logger: Logger;
  readonly client?: SQSClient;
  /** How long a claimed outbox row stays invisible to other relays while it is being sent. */
  readonly leaseSeconds?: number;
}

const SQS_BATCH = 10; // SendMessageBatch takes at most ten entries

/**
 * Relays the outbox (`jobs` rows) to SQS. Runs after every enqueueing commit and again whenever
 * `notify` is called, so a row whose send failed (or whose process died mid-send) is sent by a later
 * relay once its lease expires: a source never stays PENDING because of one failed SendMessage.
 * Delivery is at least once; the ingest function is idempotent.
 */
export function createSqsIngestQueue(options: SqsIngestQueueOptions): IngestQueue {
  const client = options.client ?? new SQSClient({});
  const leaseSeconds = options.leaseSeconds ?? 60;

  async function sendBatch(jobs: Job[]): Promise<string[]> {
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: jobs.map((job) => ({
          Id: job.id.replaceAll('-', ''),
          MessageBody: JSON.stringify(job.payload),
        })),
      }),
    );
    for (const failure of out.Failed ?? []) {
      options.logger.warn('SQS refused an ingest message; it will be relayed again', {
        code: failure.Code,
        senderFault: failure.SenderFault,
      });
    }
    const sent = new Set((out.Successful ?? []).map((s) => s.Id));
    return jobs.filter((job) => sent.has(job.id.replaceAll('-', ''))).map((job) => job.id);
  }

  async function relay(): Promise<number> {
    let total = 0;
    for (;;) {
      const jobs = await options.db.withSystem((tx) => claimJobs(tx, { limit: SQS_BATCH, leaseSeconds }));
      if (jobs.length === 0) return total;
      const sent = await sendBatch(jobs);
      await options.db.withSystem(async (tx) => {
        for (const id of sent) await completeJob(tx, id);
      });
      total += sent.length;
      if (sent.length < jobs.length) return total; // leave the rest for a later relay
    }
  }

  return {
    sweep: relay,
    async notify() {
      try {
        await relay();
      } catch (error) {
        // The rows stay in the outbox; the next notify (any later enqueue, or the scheduled sweep) sends them.
        options.logger.warn('outbox relay to SQS failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    },
  };
}
