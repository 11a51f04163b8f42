import { DocumentLimitError } from '../../domain/errors.ts';

const MB = 1024 * 1024;

/**
 * How much a document may cost to read. A small upload can unpack into gigabytes (a zip or PDF stream
 * bomb), nest deeper than the parsers' recursion allows, or hold tens of thousands of pages; each limit
 * turns such a document into a readable FAILED reason instead of an exhausted server.
 */
export interface ExtractLimits {
  /** Wall-clock time one document may take to read. */
  readonly timeoutMs: number;
  /** V8 heap of the thread that reads it (`resourceLimits.maxOldGenerationSizeMb`). */
  readonly maxHeapMb: number;
  /** Bytes all compressed parts together (zip entries, PDF streams) may expand to. */
  readonly maxExpandedBytes: number;
  /** Bytes one compressed part may expand to. */
  readonly maxEntryBytes: number;
  /** Expanded/compressed ratio of one part, checked once it has expanded past RATIO_GRACE_BYTES. */
  readonly maxCompressionRatio: number;
  readonly maxPages: number;
  /** Elements open at once while parsing HTML (Readability and html-to-text recurse per level). */
  readonly maxHtmlDepth: number;
  /** Characters of extracted text. */
  readonly maxChars: number;
}

/**
 * Small parts may compress far better than any bomb would (a run of spaces, an empty table); only a part
 * that has become large enough to matter is held to the ratio.
 */
export const RATIO_GRACE_BYTES = MB;

export const defaultExtractLimits: ExtractLimits = {
  timeoutMs: 60_000,
  maxHeapMb: 512,
  maxExpandedBytes: 200 * MB,
  maxEntryBytes: 50 * MB,
  maxCompressionRatio: 100,
  maxPages: 2_000,
  maxHtmlDepth: 256,
  maxChars: 20_000_000,
};

export function formatBytes(bytes: number): string {
  return bytes >= MB ? `${Math.round((bytes / MB) * 10) / 10} MB` : `${Math.round(bytes / 1024)} KB`;
}

/**
 * Counts the bytes a document's compressed parts expand to, refusing as soon as one part, the whole or one
 * part's compression ratio passes its limit. The error says which, in words the uploader understands.
 */
export class ExpansionBudget {
  private total = 0;
  constructor(private readonly limits: ExtractLimits) {}

  /**
   * The most a bounded inflate of a part of `compressedBytes` needs to produce to tell whether it passes:
   * one byte past the first limit it could cross (`countsTowardsTotal` false: only the ratio applies).
   */
  inflateBound(compressedBytes: number, countsTowardsTotal = true): number {
    const byRatio = Math.max(
      RATIO_GRACE_BYTES,
      this.limits.maxCompressionRatio * Math.max(1, compressedBytes),
    );
    if (!countsTowardsTotal) return byRatio + 1;
    return Math.min(this.limits.maxEntryBytes, this.limits.maxExpandedBytes - this.total, byRatio) + 1;
  }

  /**
   * `expanded` more bytes of the current part, which has produced `part.bytes` so far from
   * `part.compressedBytes`. `countsTowardsTotal` false (PDF images, which text extraction never decodes):
   * only the ratio applies.
   */
  add(expanded: number, part: { bytes: number; compressedBytes: number }, countsTowardsTotal = true): void {
    if (countsTowardsTotal) {
      this.total += expanded;
      if (this.total > this.limits.maxExpandedBytes) {
        throw new DocumentLimitError(
          `The document expands beyond ${formatBytes(this.limits.maxExpandedBytes)} when unpacked, more than MiniRAG reads.`,
        );
      }
      if (part.bytes > this.limits.maxEntryBytes) {
        throw new DocumentLimitError(
          `A part of the document expands beyond ${formatBytes(this.limits.maxEntryBytes)} when unpacked, more than MiniRAG reads.`,
        );
      }
    }
    if (
      part.bytes > RATIO_GRACE_BYTES &&
      part.bytes > this.limits.maxCompressionRatio * Math.max(1, part.compressedBytes)
    ) {
      throw new DocumentLimitError(
        `A part of the document expands more than ${this.limits.maxCompressionRatio} times when unpacked (a compression bomb), so MiniRAG does not read it.`,
      );
    }
  }
}

export function tooMuchText(limits: ExtractLimits): DocumentLimitError {
  return new DocumentLimitError(
    `The document holds more than ${limits.maxChars.toLocaleString('en-US')} characters of text, more than MiniRAG reads from one source; split it into smaller documents.`,
  );
}

export function checkExtractedChars(text: string, limits: ExtractLimits): string {
  if (text.length > limits.maxChars) throw tooMuchText(limits);
  return text;
}
