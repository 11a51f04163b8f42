/**
 * The entry of an extraction worker thread (see read-in-worker.ts): announces itself once its readers are
 * loaded, then reads one document per message and answers with its text, or the error as name + message (an
 * Error's class does not survive the thread boundary). Bundled on its own next to the ingest function's
 * handler (infra/constructs/ingest.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { ExtractLimits } from './limits.ts';
import { type ExtractInput, readDocument } from './read-document.ts';

export interface ExtractionRequest {
  readonly id: number;
  readonly input: ExtractInput;
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
    reply = { id, ok: true, text: await readDocument(input, limits) };
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
