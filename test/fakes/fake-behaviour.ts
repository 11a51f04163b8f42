import { seededRandom } from '#test/fixtures/seeded-random.ts';

/** What the fake provider servers do with a request, and the script that decides it per request. */

/** What the fake does with one request. Zero added latency unless asked. */
export type FakeBehaviour =
  /**
   * Answers normally. `reply` overrides the server's reply text; `omitUsage` plays a compatible server
   * that reports no token usage; `embeddingOrder: 'reversed'` returns embeddings last index first.
   */
  | {
      readonly kind: 'ok';
      readonly reply?: string;
      readonly chunkDelayMs?: number;
      readonly omitUsage?: boolean;
      readonly embeddingOrder?: 'reversed';
    }
  /** 400 with the provider's invalid-request error JSON (a request the provider refuses as malformed). */
  | { readonly kind: 'bad-request' }
  /** 401 with the provider's authentication error JSON. */
  | { readonly kind: 'unauthorized' }
  /** 403 with the provider's permission error JSON. */
  | { readonly kind: 'forbidden' }
  /** 429 with a `retry-after` header (seconds, default 1). */
  | { readonly kind: 'rate-limited'; readonly retryAfter?: number }
  /** A 5xx (default 500; 529 is Anthropic's "overloaded") with the provider's error JSON. */
  | { readonly kind: 'server-error'; readonly status?: number }
  /** Sends `afterChunks` stream events (or half a JSON body), then destroys the socket. */
  | { readonly kind: 'cut-stream'; readonly afterChunks: number; readonly reply?: string }
  /** Sends `afterChunks` stream events, then the provider's in-stream error event, then ends cleanly. */
  | { readonly kind: 'stream-error'; readonly afterChunks: number; readonly reply?: string }
  /** Accepts the request and never answers (for timeouts and aborts); `close()` still ends it. */
  | { readonly kind: 'hang' }
  /**
   * Fault injection: fails a `ratio` of requests with `failure` (default a 500), decided by a PRNG seeded
   * with `seed` (default 1), so a run is repeatable. Meant for `setDefault`.
   */
  | {
      readonly kind: 'fail-ratio';
      readonly ratio: number;
      readonly seed?: number;
      readonly failure?: FailureBehaviour;
    };

export type FailureBehaviour = Exclude<FakeBehaviour, { kind: 'ok' } | { kind: 'fail-ratio' }>;

/**
 * A queued behaviour; with `on`, only a request to that endpoint takes it; with `delayMs`, the fake
 * waits that long before it answers at all (a provider slow to its first byte, or to its refusal).
 */
export type ScriptedBehaviour<E extends string> = FakeBehaviour & {
  readonly on?: E;
  readonly delayMs?: number;
};

export interface BehaviourScript<E extends string> {
  /** Queues one-shot behaviours, taken in order by the next (matching) requests. */
  script(...behaviours: ScriptedBehaviour<E>[]): void;
  /** The behaviour when the queue has none for a request. */
  setDefault(behaviour: FakeBehaviour): void;
  /** Empties the queue and restores the initial default. */
  reset(): void;
  /** The behaviour for the next request to `endpoint`, with `fail-ratio` already decided. */
  next(endpoint: E): Exclude<FakeBehaviour, { kind: 'fail-ratio' }> & { readonly delayMs?: number };
}

export function createBehaviourScript<E extends string>(initial: FakeBehaviour): BehaviourScript<E> {
  const queue: ScriptedBehaviour<E>[] = [];
  let standing = initial;
  // One generator per fail-ratio behaviour, so its seed alone decides which requests fail.
  const generators = new WeakMap<FakeBehaviour, () => number>();
  return {
    script: (...behaviours) => void queue.push(...behaviours),
    setDefault(behaviour) {
      standing = behaviour;
    },
    reset() {
      queue.length = 0;
      standing = initial;
    },
    next(endpoint) {
      const index = queue.findIndex((b) => b.on === undefined || b.on === endpoint);
      const chosen = index >= 0 ? queue.splice(index, 1)[0]! : standing;
      if (chosen.kind !== 'fail-ratio') return chosen;
      const random = generators.get(chosen) ?? seededRandom(chosen.seed ?? 1);
      generators.set(chosen, random);
      return random() < chosen.ratio ? (chosen.failure ?? { kind: 'server-error' }) : { kind: 'ok' };
    },
  };
}
