import { constants, inflateSync } from 'node:zlib';
import { ExpansionBudget, type ExtractLimits } from './limits.ts';

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');

/** Whether the dictionary just before a stream says it is an image (pdf.js decodes no image to read text). */
function isImage(pdf: Buffer, streamAt: number): boolean {
  const dictionary = pdf.subarray(Math.max(0, streamAt - 512), streamAt).toString('latin1');
  return /\/Subtype\s*\/Image\b/.test(dictionary.slice(dictionary.lastIndexOf('obj')));
}

/**
 * Inflates every Flate stream of a PDF once, bounded, before pdf.js reads it: pdf.js decodes a stream whole
 * into typed arrays, which live outside the V8 heap the worker's resourceLimits cap, so a 1 MB PDF holding a
 * stream of 1 GB would take 1 GB of memory. Streams are found by their keywords in the raw bytes (object
 * streams included, since they are streams too); ones that are not zlib data are left to pdf.js.
 */
export function checkPdfStreams(bytes: Uint8Array, limits: ExtractLimits): void {
  const pdf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const budget = new ExpansionBudget(limits);
  let at = pdf.indexOf(STREAM);
  while (at >= 0) {
    const isKeyword = at < 3 || pdf.subarray(at - 3, at).toString('latin1') !== 'end';
    let start = at + STREAM.length;
    if (pdf[start] === 0x0d) start++;
    if (!isKeyword || pdf[start] !== 0x0a) {
      at = pdf.indexOf(STREAM, at + STREAM.length);
      continue;
    }
    start++;
    const end = pdf.indexOf(END_STREAM, start);
    const data = pdf.subarray(start, end < 0 ? pdf.length : end);
    const countsTowardsTotal = !isImage(pdf, at);
    const bound = budget.inflateBound(data.length, countsTowardsTotal);
    let expanded: number | undefined;
    try {
      // Z_SYNC_FLUSH: a truncated stream yields what it holds (as pdf.js reads it) instead of an error.
      expanded = inflateSync(data, { maxOutputLength: bound, finishFlush: constants.Z_SYNC_FLUSH }).length;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') expanded = bound;
      // Anything else is not zlib data (images, other filters, encrypted streams): pdf.js decides.
    }
    if (expanded !== undefined) {
      budget.add(expanded, { bytes: expanded, compressedBytes: data.length }, countsTowardsTotal);
    }
    if (end < 0) break;
    at = pdf.indexOf(STREAM, end + END_STREAM.length);
  }
}
