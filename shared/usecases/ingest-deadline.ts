import { IngestDeadlineError } from '../domain/errors.ts';

/**
 * The time one ingestion may take, from its start to the last step before anything is stored. The steps that
 * only compute (download, extraction, embedding) give up when it passes; the writes after it (vectors, then
 * one transaction for the chunks) are what the margin below the hard limit is for, so a source either ends
 * COMPLETED or FAILED with nothing of it stored, never cut off half-written by a Lambda timeout.
 */
export interface IngestDeadline {
  /** Milliseconds left (0 once passed; Infinity without a deadline). */
  remainingMs(): number;
  /** Throws the deadline error (what the source was doing in `doing`) once the deadline has passed. */
  check(doing: string): void;
  /** `work`, or the deadline error if the deadline passes first. `work` must not write anything. */
  race<T>(work: Promise<T>, doing: string): Promise<T>;
  /** The deadline error, for a step that stopped because its own timer was cut to the deadline. */
  error(doing: string): IngestDeadlineError;
}

export function ingestDeadline(at: number | undefined, now: () => number = Date.now): IngestDeadline {
  const budgetS = at === undefined ? 0 : Math.max(0, Math.round((at - now()) / 1000));
  const remainingMs = () => (at === undefined ? Number.POSITIVE_INFINITY : Math.max(0, at - now()));
  const error = (doing: string) =>
    new IngestDeadlineError(
      `Ingestion did not finish within ${budgetS} s: it was still ${doing}. Nothing of it was stored; ` +
        'split the document into smaller files, or ask the operator to allow ingestion more time.',
    );
  return {
    remainingMs,
    error,
    check(doing) {
      if (remainingMs() <= 0) throw error(doing);
    },
    race(work, doing) {
      const left = remainingMs();
      if (left === Number.POSITIVE_INFINITY) return work;
      if (left <= 0) {
        work.catch(() => {});
        return Promise.reject(error(doing));
      }
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(error(doing)), left);
      });
      // The abandoned work runs on without anyone waiting for it; its failure is no one's to report.
      work.catch(() => {});
      return Promise.race([work, expired]).finally(() => clearTimeout(timer));
    },
  };
}
