import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  DocumentLimitError,
  type DomainError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../domain/errors.ts';
import type { ExtractionReply, ExtractionRequest } from './extraction-worker.ts';
import type { ExtractLimits } from './limits.ts';
import type { ExtractInput, FileExtractInput } from './read-document.ts';

/** The errors a worker may report that are meant for the uploader; anything else is an internal fault. */
const documentErrors: Record<string, new (message: string) => DomainError> = {
  DocumentLimitError,
  ValidationError,
  UnsupportedMediaTypeError,
};

/**
 * Documents read at once. Reading is CPU-bound, so more threads than this buy no speed, and each may hold up
 * to its heap cap (plus pdf.js's buffers outside it).
 */
const MAX_WORKERS = 2;

const READY = 'ready';

/**
 * From source (tsx, vitest) this module is a .ts file: the worker registers tsx's loader, then imports
 * extraction-worker.ts (on Node 20 a `--import tsx` in the worker's execArgv does not reach its entry). In the
 * ingest function's bundle this module is part of index.mjs and the worker is extraction-worker.mjs beside it.
 */
function spawnWorker(heapMb: number): Worker {
  const options = { resourceLimits: { maxOldGenerationSizeMb: heapMb }, stdout: false, stderr: false };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./extraction-worker.mjs', import.meta.url), options);
  }
  // require.resolve finds the package's CommonJS build; the worker imports its ESM twin beside it.
  const tsxApi = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsx = pathToFileURL(tsxApi).href;
  const entry = new URL('./extraction-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

interface PooledWorker {
  readonly worker: Worker;
  readonly heapMb: number;
  /** Resolves once the worker has loaded its readers (startup is not part of a document's deadline). */
  readonly ready: Promise<void>;
}

const idle: PooledWorker[] = [];
let busy = 0;
const waiting: (() => void)[] = [];
let nextId = 1;

function startWorker(heapMb: number): PooledWorker {
  const worker = spawnWorker(heapMb);
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (message !== READY) return;
      worker.off('message', onMessage);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`The extraction worker did not start (exit code ${code}).`)),
    );
  });
  ready.catch(() => {});
  const pooled = { worker, heapMb, ready };
  worker.once('exit', () => {
    const at = idle.indexOf(pooled);
    if (at >= 0) idle.splice(at, 1);
  });
  return pooled;
}

async function acquire(heapMb: number): Promise<PooledWorker> {
  while (busy >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  busy++;
  const at = idle.findIndex((w) => w.heapMb === heapMb);
  const pooled = at >= 0 ? idle.splice(at, 1)[0]! : startWorker(heapMb);
  pooled.worker.ref();
  return pooled;
}

/** A worker that read its document without incident serves the next one; one that failed is gone. */
function release(pooled: PooledWorker, healthy: boolean): void {
  busy--;
  if (healthy && idle.length < MAX_WORKERS) {
    // An idle worker must not keep a finished CLI process alive.
    pooled.worker.unref();
    idle.push(pooled);
  } else {
    void pooled.worker.terminate();
  }
  waiting.shift()?.();
}

/**
 * Reads a document in a worker thread with a V8 heap cap and a deadline, so a document that needs gigabytes
 * or minutes costs that thread, which is terminated, and never the process: the local server keeps
 * answering, and in AWS the rest of the SQS batch completes. At most MAX_WORKERS documents are read at once;
 * warm workers are reused, since loading pdf.js and the other readers takes longer than most documents do.
 */
export async function readInWorker(
  input: ExtractInput | FileExtractInput,
  limits: ExtractLimits,
): Promise<string> {
  const pooled = await acquire(limits.maxHeapMb);
  try {
    await pooled.ready;
  } catch (error) {
    release(pooled, false);
    throw error;
  }
  const { worker } = pooled;
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const finish = (healthy: boolean, outcome: () => void) => {
      clearTimeout(deadline);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      release(pooled, healthy);
      outcome();
    };
    const onMessage = (reply: ExtractionReply) => {
      if (reply.id !== id) return;
      finish(true, () => {
        if (reply.ok) return resolve(reply.text);
        const known = documentErrors[reply.name];
        reject(
          known ? new known(reply.message) : new Error(`Extraction failed: ${reply.name}: ${reply.message}`),
        );
      });
    };
    const onError = (error: Error & { code?: string }) =>
      finish(false, () =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new DocumentLimitError(
                `Reading the document needs more than ${limits.maxHeapMb} MB of memory, more than MiniRAG allows one document.`,
                { cause: error },
              )
            : error,
        ),
      );
    const onExit = (code: number) =>
      finish(false, () =>
        reject(new Error(`The extraction worker stopped without an answer (exit code ${code}).`)),
      );
    const deadline = setTimeout(
      () =>
        finish(false, () =>
          reject(
            new DocumentLimitError(
              `Reading the document took longer than ${Math.round(limits.timeoutMs / 1000)} s, so MiniRAG stopped.`,
            ),
          ),
        ),
      limits.timeoutMs,
    );
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    if ('path' in input) {
      worker.postMessage({ id, input, limits } satisfies ExtractionRequest);
      return;
    }
    // Posting a view would clone its whole backing buffer (a database driver's may be far larger than the
    // document); an exact copy is moved to the worker instead.
    const bytes = new Uint8Array(input.bytes);
    const request: ExtractionRequest = { id, input: { ...input, bytes }, limits };
    worker.postMessage(request, [bytes.buffer]);
  });
}
