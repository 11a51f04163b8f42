/** What the ingest function receives: which version of which source to (re)build. */
export interface IngestMessage {
  readonly tenantId: string;
  readonly sourceId: string;
  readonly version: number;
}

/**
 * The Queue port. Jobs are first written to the `jobs` table in the same transaction as the source
 * (a transactional outbox), so an enqueue can never be lost between the commit and the queue. The
 * transport then delivers them: in AWS the SQS adapter relays the outbox to SQS; locally the worker
 * consumes the table itself and `notify` only wakes it.
 */
export interface IngestQueue {
  /** Called after a transaction that wrote ingest jobs committed. Must not throw for a transport fault. */
  notify(): Promise<void>;
  /** Delivers outbox rows an earlier delivery missed (the scheduled sweep); returns how many it sent. */
  sweep(): Promise<number>;
}
