/**
 * The entry of an extraction worker thread (see read-in-worker.ts): announces itself once its readers are
 * loaded, then reads one document per message and answers with its text, or the error as name + message (an
 * Error's class does not survive the thread boundary). Bundled on its own next to the ingest function's
 * handler (infra/constructs/ingest.ts).
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { ExtractLimits } from './limits.ts';
import { type ExtractInput, type FileExtractInput, readDocument } from './read-document.ts';

export interface ExtractionRequest {
  readonly id: number;
  /** A file is read here, so the thread that asks never holds its bytes. */
  readonly input: ExtractInput | FileExtractInput;
  readonly limits: ExtractLimits;
}

export type ExtractionReply =
  | { readonly id: number; readonly ok: true; readonly text: string }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

/** The worker's first message: its readers are loaded. */
export const READY = 'ready';

parentPort?.on('message', async ({ id, input, limits }: ExtractionRequest) => {
  let reply: ExtractionReply;
  try {
    const document = 'path' in input ? { ...input, bytes: await readFile(input.path) } : input;
    reply = { id, ok: true, text: await readDocument(document, limits) };
  } catch (error) {
    reply = {
      id,
      ok: false,
      name: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
    };
  }
  parentPort?.postMessage(reply);
});
parentPort?.postMessage(READY);
