export interface StallWatch {
  /** Rejects with the watch's error when a deadline passes; never resolves. */
  readonly expired: Promise<never>;
  /** The transaction has its connection: the acquisition deadline ends. */
  acquired(): void;
  /** Runs one statement under the stall deadline. */
  statement<T>(run: () => Promise<T>): Promise<T>;
  /** Throws if the watch already gave up (the caller must not start more work on a stalled transaction). */
  check(): void;
  /** The body returned: COMMIT is under the stall deadline too. */
  committing(): void;
  done(): void;
}

export interface StallWatchOptions {
  readonly acquireMs: number;
  readonly stallMs: number;
  /** Called once when a statement or the COMMIT outlives `stallMs` (not for a slow acquisition). */
  readonly onStall: () => void;
  readonly error: () => Error;
}

/**
 * Deadlines for one transaction on porsager/postgres, which has none of its own for a connection that
 * stops answering: getting a connection, each statement and the COMMIT must each finish in time. Time the
 * application spends between statements is not counted.
 */
export function createStallWatch(options: StallWatchOptions): StallWatch {
  let timer: NodeJS.Timeout | undefined;
  let expire: (error: Error) => void = () => {};
  let failure: Error | undefined;
  const expired = new Promise<never>((_, reject) => {
    expire = reject;
  });
  expired.catch(() => {});

  function arm(ms: number, stalled: boolean): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      failure = options.error();
      if (stalled) options.onStall();
      expire(failure);
    }, ms);
  }
  const disarm = () => clearTimeout(timer);
  const check = () => {
    if (failure) throw failure;
  };

  arm(options.acquireMs, false);
  return {
    expired,
    acquired() {
      disarm();
      check();
    },
    async statement(run) {
      check();
      arm(options.stallMs, true);
      try {
        return await run();
      } finally {
        disarm();
      }
    },
    check,
    committing() {
      check();
      arm(options.stallMs, true);
    },
    done: disarm,
  };
}
