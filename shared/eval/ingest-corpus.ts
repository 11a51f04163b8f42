import type { AuthContext } from '../domain/auth-context.ts';
import { ConflictError } from '../domain/errors.ts';
import type { Source, SourceStatus } from '../domain/source.ts';
import type { Page } from '../repositories/pagination.ts';
import { createSource, listTenantSources, type SourceDeps } from '../usecases/sources.ts';
import type { BeirDocument } from './beir-dataset.ts';

export interface CorpusIngestDeps extends SourceDeps {
  /** Resolves when the ingest worker has nothing due or running. */
  readonly waitForIngest: () => Promise<void>;
  readonly onProgress?: (event: { phase: 'created' | 'ingested'; done: number; total: number }) => void;
  /** Gives up waiting for the worker after this long. Default 30 minutes. */
  readonly timeoutMs?: number;
}

export interface IngestedCorpus {
  /** source id → the corpus ids whose document it holds (two identical documents share a source). */
  readonly documentsBySource: Map<string, string[]>;
  readonly sources: number;
  readonly chunks: number;
  /** Documents with neither title nor text: nothing to ingest, and no run can retrieve them. */
  readonly emptyDocuments: string[];
  /** Documents identical to an earlier one (the platform refuses duplicate content in a tenant). */
  readonly duplicateDocuments: string[];
  readonly failed: { readonly sourceId: string; readonly error: string | null }[];
}

const PAGE = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the platform is given for a document: its title, a blank line, its text (as BEIR does). */
export function documentContent(doc: BeirDocument): string {
  return [doc.title.trim(), doc.text.trim()].filter(Boolean).join('\n\n');
}

async function allSources(auth: AuthContext, status: SourceStatus, deps: SourceDeps): Promise<Source[]> {
  const found: Source[] = [];
  let cursor: string | undefined;
  do {
    const page: Page<Source> = await listTenantSources(auth, { status }, { limit: PAGE, cursor }, deps);
    found.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}

async function countUnfinished(auth: AuthContext, deps: SourceDeps): Promise<number> {
  let n = 0;
  for (const status of ['PENDING', 'PROCESSING'] as const) {
    n += (await listTenantSources(auth, { status }, { limit: PAGE }, deps)).data.length;
  }
  return n;
}

/**
 * Ingests a corpus the way a tenant would: one `createSource` per document (stored PENDING, job
 * enqueued), then the job worker runs the real pipeline (chunker, embedder, vector store, full-text
 * index). Waits until every source is COMPLETED or FAILED.
 */
export async function ingestCorpus(
  auth: AuthContext,
  corpus: readonly BeirDocument[],
  deps: CorpusIngestDeps,
): Promise<IngestedCorpus> {
  const documentsBySource = new Map<string, string[]>();
  const emptyDocuments: string[] = [];
  const duplicateDocuments: string[] = [];
  for (const [i, doc] of corpus.entries()) {
    const content = documentContent(doc);
    if (!content) {
      emptyDocuments.push(doc.id);
      continue;
    }
    try {
      const source = await createSource(
        auth,
        {
          title: (doc.title.trim() || `Document ${doc.id}`).slice(0, 200),
          type: 'text',
          content,
          metadata: { corpus_id: doc.id },
        },
        deps,
      );
      documentsBySource.set(source.id, [doc.id]);
    } catch (error) {
      const existing = error instanceof ConflictError ? error.details?.['existing_source_id'] : undefined;
      if (typeof existing !== 'string') throw error;
      documentsBySource.get(existing)?.push(doc.id);
      duplicateDocuments.push(doc.id);
    }
    if ((i + 1) % 100 === 0) deps.onProgress?.({ phase: 'created', done: i + 1, total: corpus.length });
  }

  const deadline = Date.now() + (deps.timeoutMs ?? 30 * 60_000);
  for (;;) {
    await deps.waitForIngest();
    const unfinished = await countUnfinished(auth, deps);
    deps.onProgress?.({
      phase: 'ingested',
      done: documentsBySource.size - unfinished,
      total: documentsBySource.size,
    });
    if (unfinished === 0) break;
    // A job waiting out a retry backoff is not "due": the worker is idle but the source is pending.
    if (Date.now() > deadline)
      throw new Error(`${unfinished} sources were still not ingested after the timeout`);
    await sleep(500);
  }

  const completed = await allSources(auth, 'COMPLETED', deps);
  const failed = (await allSources(auth, 'FAILED', deps)).map((s) => ({ sourceId: s.id, error: s.error }));
  return {
    documentsBySource,
    sources: documentsBySource.size,
    chunks: completed.reduce((n, s) => n + s.chunkCount, 0),
    emptyDocuments,
    duplicateDocuments,
    failed,
  };
}
