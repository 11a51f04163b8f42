import type { ApiClient } from './api-client.ts';
import { ApiError, ConnectionError } from './api-error.ts';
import type { IngestInput } from './collect-inputs.ts';
import type { SourceJson } from './types.ts';
import { uploadFile } from './upload-file.ts';

/** How one document ended; FAILED carries the readable reason. */
export type IngestOutcome =
  | {
      readonly file: string;
      readonly status: 'COMPLETED';
      readonly sourceId: string;
      readonly chunks: number;
    }
  | { readonly file: string; readonly status: 'FAILED'; readonly sourceId?: string; readonly reason: string }
  | {
      readonly file: string;
      readonly status: 'ALREADY INGESTED';
      readonly sourceId: string;
      readonly chunks?: number;
    }
  /** Uploaded with `--no-wait`: the server is still working on it. */
  | { readonly file: string; readonly status: 'QUEUED'; readonly sourceId: string };

export interface IngestRunOptions {
  readonly tags?: readonly string[];
  /** Wait for each source to reach COMPLETED or FAILED (default true). */
  readonly wait?: boolean;
  readonly uploadConcurrency?: number;
  readonly pollMs?: number;
  /** Give up waiting after this long; unfinished sources are reported as FAILED. */
  readonly timeoutMs?: number;
  /** How long polling tolerates an unreachable server (it may be restarting). */
  readonly unreachableMs?: number;
  readonly onOutcome?: (outcome: IngestOutcome, totals: IngestTotals) => void;
  readonly onProgress?: (totals: IngestTotals) => void;
  /** Bytes of a file sent so far (direct uploads stream the file to storage). */
  readonly onUploadBytes?: (file: string, sent: number, total: number) => void;
}

export interface IngestTotals {
  readonly done: number;
  readonly total: number;
  readonly chunks: number;
  readonly chunksPerSecond: number;
  readonly current: string;
}

interface Pending {
  readonly input: IngestInput;
  readonly sourceId: string;
  /** A 409: the same content already exists as this source; we only wait for it. */
  readonly duplicate: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Uploads every input (a few at a time), then polls each source until it is COMPLETED or FAILED.
 * Never throws for one bad document: each ends as an outcome, in the order of `inputs`.
 */
export async function runIngest(
  client: ApiClient,
  inputs: readonly IngestInput[],
  options: IngestRunOptions = {},
): Promise<IngestOutcome[]> {
  const started = Date.now();
  const outcomes = new Map<IngestInput, IngestOutcome>();
  const pending = new Map<string, Pending>();
  const adopting: Promise<void>[] = [];
  let chunks = 0;
  let current = '';

  const totals = (): IngestTotals => ({
    done: outcomes.size,
    total: inputs.length,
    chunks,
    chunksPerSecond: chunks / Math.max((Date.now() - started) / 1000, 0.001),
    current,
  });
  const finish = (input: IngestInput, outcome: IngestOutcome) => {
    if (outcomes.has(input)) return;
    if (outcome.status === 'COMPLETED' || outcome.status === 'ALREADY INGESTED')
      chunks += outcome.chunks ?? 0;
    outcomes.set(input, outcome);
    current = input.label;
    options.onOutcome?.(outcome, totals());
  };
  /**
   * Ingestion found the file's content already ingested as another source: the new source only says so, so
   * it is deleted and the original waited for (re-ingested first if it had failed: running `ingest` again
   * is the way to retry a document).
   */
  const adoptOriginal = async (p: Pending, duplicate: SourceJson, originalId: string) => {
    await client.delete(`/v1/sources/${duplicate.id}`).catch(() => undefined);
    const original = await client.get<SourceJson>(`/v1/sources/${originalId}`).catch(() => undefined);
    if (original?.status === 'FAILED') {
      const retried = await client
        .post<SourceJson>(`/v1/sources/${originalId}/reingest`)
        .catch(() => undefined);
      if (retried) return settle({ input: p.input, sourceId: originalId, duplicate: false }, retried);
    }
    if (original) settle({ input: p.input, sourceId: originalId, duplicate: true }, original);
    else finish(p.input, { file: p.input.label, status: 'ALREADY INGESTED', sourceId: originalId });
  };
  const settle = (p: Pending, source: SourceJson): void => {
    if (source.status === 'FAILED' && source.duplicate_of && !p.duplicate) {
      pending.delete(source.id);
      adopting.push(adoptOriginal(p, source, source.duplicate_of));
      return;
    }
    if (source.status === 'COMPLETED') {
      finish(
        p.input,
        p.duplicate
          ? {
              file: p.input.label,
              status: 'ALREADY INGESTED',
              sourceId: source.id,
              chunks: source.chunk_count,
            }
          : { file: p.input.label, status: 'COMPLETED', sourceId: source.id, chunks: source.chunk_count },
      );
    } else if (source.status === 'FAILED') {
      const reason = source.error ?? 'ingestion failed';
      finish(p.input, {
        file: p.input.label,
        status: 'FAILED',
        sourceId: source.id,
        reason: p.duplicate ? `already added as ${source.id}, which failed: ${reason}` : reason,
      });
    } else if (options.wait === false) {
      finish(p.input, { file: p.input.label, status: 'QUEUED', sourceId: source.id });
    } else {
      pending.set(source.id, p);
      return;
    }
    pending.delete(source.id);
  };

  async function upload(input: IngestInput): Promise<void> {
    current = input.label;
    options.onProgress?.(totals());
    try {
      const tags = options.tags ?? [];
      const source =
        input.kind === 'url'
          ? await client.post<SourceJson>('/v1/sources', {
              json: { type: 'url', url: input.url, title: input.url, ...(tags.length ? { tags } : {}) },
            })
          : await uploadFile(client, {
              path: input.path,
              title: input.label,
              contentType: input.contentType,
              tags,
              onBytes: (sent, total) => options.onUploadBytes?.(input.label, sent, total),
            });
      settle({ input, sourceId: source.id, duplicate: false }, source);
    } catch (error) {
      const existing = error instanceof ApiError ? error.problem.existing_source_id : undefined;
      if (error instanceof ApiError && error.status === 409 && typeof existing === 'string') {
        const source = await client.get<SourceJson>(`/v1/sources/${existing}`).catch(() => undefined);
        if (source?.status === 'FAILED') {
          // The same document failed before: running `ingest` again is the way to retry it.
          const retried = await client
            .post<SourceJson>(`/v1/sources/${existing}/reingest`)
            .catch(() => undefined);
          if (retried) return settle({ input, sourceId: existing, duplicate: false }, retried);
        }
        if (source) settle({ input, sourceId: existing, duplicate: true }, source);
        else finish(input, { file: input.label, status: 'ALREADY INGESTED', sourceId: existing });
      } else {
        finish(input, { file: input.label, status: 'FAILED', reason: describe(error) });
      }
    }
  }

  let uploading = true;
  const uploads = (async () => {
    const queue = [...inputs];
    const worker = async () => {
      for (let input = queue.shift(); input; input = queue.shift()) await upload(input);
    };
    await Promise.all(
      Array.from({ length: Math.min(options.uploadConcurrency ?? 4, inputs.length) }, worker),
    );
    uploading = false;
  })();

  const pollMs = options.pollMs ?? 500;
  const deadline = started + (options.timeoutMs ?? 15 * 60_000);
  let unreachableSince: number | undefined;
  while (uploading || pending.size > 0 || adopting.length > 0) {
    await Promise.all(adopting.splice(0));
    await sleep(pollMs);
    if (Date.now() > deadline) break;
    for (const p of [...pending.values()]) {
      try {
        settle(p, await client.get<SourceJson>(`/v1/sources/${p.sourceId}`));
        unreachableSince = undefined;
      } catch (error) {
        if (error instanceof ConnectionError) {
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince > (options.unreachableMs ?? 30_000)) throw error;
          break;
        }
        pending.delete(p.sourceId);
        finish(p.input, {
          file: p.input.label,
          status: 'FAILED',
          sourceId: p.sourceId,
          reason: describe(error),
        });
      }
    }
    options.onProgress?.(totals());
  }
  await uploads;
  for (const p of pending.values()) {
    finish(p.input, {
      file: p.input.label,
      status: 'FAILED',
      sourceId: p.sourceId,
      reason: 'timed out waiting for ingestion (it may still finish: see `GET /v1/sources`)',
    });
  }
  return inputs.map((input) => outcomes.get(input)!);
}
