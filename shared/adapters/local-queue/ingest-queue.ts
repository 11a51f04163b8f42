import type { IngestQueue } from '../../ports/ingest-queue.ts';

/**
 * The local transport: the worker reads the outbox (`jobs`) directly, so delivering means waking it.
 * `connect` is called once the worker exists (the queue is needed to build the API before that).
 */
export function createLocalIngestQueue(): IngestQueue & { connect(wake: () => void): void } {
  let wake: () => void = () => {};
  return {
    connect(fn) {
      wake = fn;
    },
    async notify() {
      wake();
    },
    // The worker polls the table itself: nothing can be left undelivered.
    async sweep() {
      wake();
      return 0;
    },
  };
}
