import type { Embedder } from '../../ports/embedder.ts';
import {
  type EmbedInBatchesOptions,
  type EmbedInBatchesResult,
  embedInBatches,
  isRetryable,
} from './embed-in-batches.ts';

/** One source's share of a group: it embeds all its texts at once, or leaves if it has none. */
export interface EmbeddingGroupMember {
  embed(texts: readonly string[]): Promise<EmbedInBatchesResult>;
  /** Done without embedding (skipped, failed before embedding). A no-op after `embed`. */
  leave(): void;
}

export interface EmbeddingGroupOptions extends Omit<EmbedInBatchesOptions, 'onBatch'> {
  /**
   * The longest a partial batch waits for members still extracting before it goes out on its own, so
   * one slow source (a URL fetch timing out) holds the others back by at most this much.
   */
  readonly lingerMs?: number;
}

/** Providers cap a request well above this; the same bound as embedInBatches. */
const largestBatch = 128;

interface Slot {
  readonly owner: MemberState;
  readonly index: number;
  readonly text: string;
}

interface MemberState {
  vectors: number[][];
  inputTokens: number;
  calls: number;
  /** Texts still waiting for a vector. */
  outstanding: number;
  settled: boolean;
  resolve(result: EmbedInBatchesResult): void;
  reject(error: unknown): void;
}

/**
 * Sources ingested together (one SQS batch, one claim of the local queue) share their embedding requests:
 * every request carries up to 128 texts whichever source they come from, so n chunks take ceil(n / 128)
 * calls in all instead of one partial batch per source (a 3-chunk file would otherwise cost a whole call).
 * Full batches go out as soon as they fill; the last, partial one once every member has embedded or left,
 * or after `lingerMs`. Callers keep groups to one tenant, so one request never mixes tenants' texts, and a
 * batch's token count is shared among its members in proportion to their text length (the total is exact).
 * When the provider refuses a shared request, each member's part is tried alone, so only the source at fault
 * fails; an outage fails them all, to be retried by the queue.
 */
export function createEmbeddingGroup(
  embedder: Embedder,
  size: number,
  options: EmbeddingGroupOptions = {},
): { member(): EmbeddingGroupMember } {
  const { lingerMs = 2_000, ...embedOptions } = options;
  const batchSize = Math.max(1, Math.min(largestBatch, embedder.maxBatchSize));
  let undecided = size; // members that have neither embedded nor left
  let pending: Slot[] = [];
  let linger: NodeJS.Timeout | undefined;
  // One request at a time, as embedInBatches does for one source: the provider's rate limit is shared.
  let sending: Promise<void> = Promise.resolve();

  /** Embeds the slots in one request (plus embedInBatches' retries) and settles owners that are complete. */
  async function deliver(slots: readonly Slot[]): Promise<void> {
    const result = await embedInBatches(
      embedder,
      slots.map((s) => s.text),
      embedOptions,
    );
    const tokens = shareTokens(result.inputTokens, slots);
    for (const [i, slot] of slots.entries()) slot.owner.vectors[slot.index] = result.vectors[i]!;
    for (const owner of new Set(slots.map((s) => s.owner))) {
      owner.inputTokens += tokens.get(owner) ?? 0;
      owner.calls += result.calls;
      owner.outstanding -= slots.filter((s) => s.owner === owner).length;
      if (owner.outstanding === 0 && !owner.settled) {
        owner.settled = true;
        owner.resolve({ vectors: owner.vectors, inputTokens: owner.inputTokens, calls: owner.calls });
      }
    }
  }

  function fail(owner: MemberState, error: unknown): void {
    if (owner.settled) return;
    owner.settled = true;
    owner.reject(error);
  }

  function send(batch: Slot[]): void {
    sending = sending.then(async () => {
      const owners = [...new Set(batch.map((s) => s.owner))];
      try {
        await deliver(batch);
      } catch (error) {
        // An outage or a rate limit (retried already) fails everyone alike: the queue delivers them again.
        if (owners.length === 1 || isRetryable(error)) {
          for (const owner of owners) fail(owner, error);
          return;
        }
        // Refused outright: one source's text may be at fault, so each member's part is tried on its own and
        // the failure lands on that source alone, not on its neighbours in the request.
        for (const owner of owners) {
          if (owner.settled) continue;
          await deliver(batch.filter((s) => s.owner === owner)).catch((e: unknown) => fail(owner, e));
        }
      }
    });
  }

  function flush(all: boolean): void {
    while (pending.length >= batchSize) send(pending.splice(0, batchSize));
    if (pending.length === 0) {
      clearTimeout(linger);
      linger = undefined;
    } else if (all) {
      clearTimeout(linger);
      linger = undefined;
      send(pending);
      pending = [];
    } else {
      linger ??= setTimeout(() => {
        linger = undefined;
        flush(true);
      }, lingerMs);
    }
  }

  return {
    member() {
      let decided = false;
      const decide = () => {
        if (decided) return false;
        decided = true;
        undecided--;
        return true;
      };
      return {
        embed(texts) {
          if (!decide()) throw new Error('This member of the embedding group has already embedded or left.');
          return new Promise<EmbedInBatchesResult>((resolve, reject) => {
            const state: MemberState = {
              vectors: new Array(texts.length),
              inputTokens: 0,
              calls: 0,
              outstanding: texts.length,
              settled: texts.length === 0,
              resolve,
              reject,
            };
            if (texts.length === 0) resolve({ vectors: [], inputTokens: 0, calls: 0 });
            for (const [index, text] of texts.entries()) pending.push({ owner: state, index, text });
            flush(undecided === 0);
          });
        },
        leave() {
          if (decide()) flush(undecided === 0);
        },
      };
    },
  };
}

/** The batch's tokens split by each member's share of its characters; largest remainders make the sum exact. */
function shareTokens(total: number, batch: readonly Slot[]): Map<MemberState, number> {
  const chars = new Map<MemberState, number>();
  for (const slot of batch) chars.set(slot.owner, (chars.get(slot.owner) ?? 0) + slot.text.length + 1);
  const all = [...chars.values()].reduce((a, b) => a + b, 0);
  const shares = [...chars].map(([owner, n]) => {
    const exact = (total * n) / all;
    return { owner, whole: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = total - shares.reduce((a, s) => a + s.whole, 0);
  for (const s of [...shares].sort((a, b) => b.rest - a.rest)) {
    if (left <= 0) break;
    s.whole++;
    left--;
  }
  return new Map(shares.map((s) => [s.owner, s.whole]));
}

/**
 * Each message's member in the embedding groups of one delivery (an SQS batch, a claim of the local queue):
 * one group per tenant, so a request to the provider never mixes tenants' texts. In the order given.
 */
export function embeddingGroupsByTenant(
  tenantIds: readonly string[],
  embedder: Embedder,
  options?: EmbeddingGroupOptions,
): EmbeddingGroupMember[] {
  const counts = new Map<string, number>();
  for (const id of tenantIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  const groups = new Map([...counts].map(([id, n]) => [id, createEmbeddingGroup(embedder, n, options)]));
  return tenantIds.map((id) => groups.get(id)!.member());
}
