/**
 * Term frequencies of hashed features for one text at a time: an open-addressing table in typed
 * arrays, reused from text to text (a Map per text was most of the embedder's time).
 */
export class FeatureCounter {
  private mask = 4095;
  private keys = new Int32Array(4096);
  private kinds = new Uint8Array(4096);
  private counts = new Uint32Array(4096);
  private readonly used: number[] = [];

  add(hash: number, kind: number): void {
    const key = hash | 0;
    let slot = key & this.mask;
    while (this.counts[slot] !== 0) {
      if (this.keys[slot] === key && this.kinds[slot] === kind) {
        this.counts[slot] = (this.counts[slot] ?? 0) + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    this.keys[slot] = key;
    this.kinds[slot] = kind;
    this.counts[slot] = 1;
    this.used.push(slot);
    if (this.used.length * 2 > this.mask) this.grow();
  }

  /** Calls `visit` once per distinct feature, then empties the table for the next text. */
  drain(visit: (hash: number, kind: number, count: number) => void): void {
    for (const slot of this.used) {
      visit((this.keys[slot] ?? 0) >>> 0, this.kinds[slot] ?? 0, this.counts[slot] ?? 0);
      this.counts[slot] = 0;
    }
    this.used.length = 0;
  }

  private grow(): void {
    const entries = this.used.map((slot) => [
      this.keys[slot] ?? 0,
      this.kinds[slot] ?? 0,
      this.counts[slot] ?? 0,
    ]);
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.keys = new Int32Array(size);
    this.kinds = new Uint8Array(size);
    this.counts = new Uint32Array(size);
    this.used.length = 0;
    for (const [key, kind, count] of entries) {
      let slot = (key ?? 0) & this.mask;
      while (this.counts[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = key ?? 0;
      this.kinds[slot] = kind ?? 0;
      this.counts[slot] = count ?? 0;
      this.used.push(slot);
    }
  }
}
