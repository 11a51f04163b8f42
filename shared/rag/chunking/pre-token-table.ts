import type { BoundaryLevel } from './boundary-strength.ts';

/**
 * A text cut into the encoding's pre-tokens (the regex matches BPE never merges across), each
 * with its token count and the strength of the boundary before it. Because the count of a text
 * is the sum of the counts of its pre-tokens, the chunker can size any run of pre-tokens with
 * two array lookups instead of re-tokenizing it.
 *
 * Typed arrays rather than objects: a 10 MB text has about two million pre-tokens.
 */
export interface PreTokens {
  readonly text: string;
  readonly length: number;
  /** `starts[i]` is where pre-token i begins; `starts[length] === text.length`. */
  readonly starts: Int32Array;
  /** `prefix[i]` = tokens in pre-tokens 0..i-1, so pre-token i has `prefix[i + 1] - prefix[i]`. */
  readonly prefix: Int32Array;
  /** `levels[i]`: strength of the boundary before pre-token i (`levels[0]` is unused). */
  readonly levels: Uint8Array;
  /**
   * Ascending indices i whose boundary (before pre-token i) cuts inside one of the encoding's
   * pre-tokens. Rare: long words, CJK sentence ends, leading combining marks.
   */
  readonly cutsInside: readonly number[];
  /**
   * For each cut: what to add to the summed counts of the two halves to get the count of the
   * pre-token they came from, when a chunk holds both; NaN when unknown (the chunk is recounted).
   */
  readonly cutCorrections: readonly number[];
}

function firstCutAfter(cuts: readonly number[], from: number): number {
  let low = 0;
  let high = cuts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cuts[middle] ?? 0) <= from) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Whether any boundary in (from, to] cuts inside an encoding pre-token. */
export function hasCutInside(preTokens: PreTokens, from: number, to: number): boolean {
  const cuts = preTokens.cutsInside;
  const next = firstCutAfter(cuts, from);
  return next < cuts.length && (cuts[next] ?? 0) <= to;
}

/**
 * What to add to the summed counts of pre-tokens first..last (both edges re-counted apart) for
 * the cuts strictly inside them, or undefined when that is not known and the run must be
 * counted in full.
 */
export function cutCorrection(preTokens: PreTokens, first: number, last: number): number | undefined {
  const { cutsInside, cutCorrections } = preTokens;
  let correction = 0;
  for (let i = firstCutAfter(cutsInside, first); i < cutsInside.length; i++) {
    const cut = cutsInside[i] ?? 0;
    if (cut > last) break;
    const delta = cutCorrections[i] ?? Number.NaN;
    // A cut next to an edge joins a re-counted edge pre-token: count in full instead.
    if (Number.isNaN(delta) || cut - 1 <= first || cut >= last) return undefined;
    correction += delta;
  }
  return correction;
}

function grown<T extends Int32Array | Uint8Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (size: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** Growable typed arrays; a class so that the hot loop's field accesses stay monomorphic. */
export class PreTokenTableBuilder {
  private capacity: number;
  private starts: Int32Array;
  private prefix: Int32Array;
  private levels: Uint8Array;
  private readonly cutsInside: number[] = [];
  private readonly cutCorrections: number[] = [];
  private length = 0;
  private total = 0;

  constructor(private readonly text: string) {
    // Typical prose has one pre-token per 4-5 characters; the arrays grow if it has more.
    this.capacity = Math.max(16, text.length >>> 2);
    this.starts = new Int32Array(this.capacity + 1);
    this.prefix = new Int32Array(this.capacity + 1);
    this.levels = new Uint8Array(this.capacity);
  }

  /** `cut`: undefined for a boundary between pre-tokens, else the cut's correction (or NaN). */
  push(start: number, count: number, level: BoundaryLevel, cut?: number): void {
    if (this.length === this.capacity) {
      this.capacity *= 2;
      this.starts = grown(this.starts, this.capacity + 1);
      this.prefix = grown(this.prefix, this.capacity + 1);
      this.levels = grown(this.levels, this.capacity);
    }
    if (cut !== undefined) {
      this.cutsInside.push(this.length);
      this.cutCorrections.push(cut);
    }
    this.starts[this.length] = start;
    this.levels[this.length] = level;
    this.length++;
    this.total += count;
    this.prefix[this.length] = this.total;
  }

  build(): PreTokens {
    this.starts[this.length] = this.text.length;
    return {
      text: this.text,
      length: this.length,
      starts: this.starts.subarray(0, this.length + 1),
      prefix: this.prefix.subarray(0, this.length + 1),
      levels: this.levels.subarray(0, this.length),
      cutsInside: this.cutsInside,
      cutCorrections: this.cutCorrections,
    };
  }
}
