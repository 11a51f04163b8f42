import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { createApiApp } from '#functions/api/app.ts';
import { createChatStreamApp } from '#functions/chat-stream/app.ts';
import { UPLOAD_PATH } from '#shared/adapters/filesystem/blob-store.ts';
import { createJobWorker, type JobWorker } from '#shared/adapters/local-queue/job-worker.ts';
import { abandonedIngestHandler, ingestDepsOf, ingestJobHandler } from '#shared/composition/ingest-deps.ts';
import type { LocalPlatform } from '#shared/composition/local.ts';
import { bodyLimits } from '#shared/http/body-limits.ts';
import { errorToResponse } from '#shared/http/problem.ts';
import { PLAYGROUND_SECURITY_HEADERS } from '#shared/http/security-headers.ts';
import { sweepAbandonedUploads } from '#shared/usecases/uploads.ts';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface LocalServer {
  readonly app: Hono;
  readonly worker: JobWorker;
  /** Hourly: removes uploads never completed (after 24 h) and temporary files of cut-off uploads. */
  readonly sweeper: { start(): void; stop(): void; sweep(): Promise<void> };
}

const SWEEP_INTERVAL_MS = 60 * 60_000;

/**
 * Everything in one process: the API and chat-stream apps on one port (the chat-stream app takes the
 * routes that stream), the web playground at `/`, and the ingest worker on the local job table.
 */
export function createLocalServer(p: LocalPlatform): LocalServer {
  const ingestDeps = ingestDepsOf(p);
  const ingest = ingestJobHandler(
    ingestDeps,
    p.config.INGEST_OUTAGE_RETRY_SECONDS,
    p.config.INGEST_DEADLINE_SECONDS,
  );
  const worker = createJobWorker({
    db: p.db,
    logger: p.logger,
    concurrency: p.config.INGEST_CONCURRENCY,
    groupSize: p.config.INGEST_GROUP_SIZE,
    groupWindowMs: p.config.INGEST_GROUP_WINDOW_MS,
    abandoned: abandonedIngestHandler(ingestDeps),
    outageRetrySeconds: p.config.INGEST_OUTAGE_RETRY_SECONDS,
    handle: async (job, claimedWith) => {
      const outcome = await ingest(job, claimedWith);
      // A final failure is recorded on the source; the job is finished either way.
      if (outcome === 'failed' || outcome === 'rejected') {
        p.logger.warn('source failed', { sourceId: job.payload.sourceId, outcome });
      }
    },
  });
  p.ingestQueue.connect(() => worker.wake());

  const api = createApiApp(p);
  const chatStream = createChatStreamApp(p);
  const app = new Hono();
  // Before the hand-off, so no route of this server (the chat-stream ones included) reads past the limit.
  app.use('*', bodyLimits(p.config));
  app.post('/v1/chats/:id/messages', (c) => chatStream.fetch(c.req.raw));
  app.post('/v1/chat/completions', (c) => chatStream.fetch(c.req.raw));
  app.post('/v1/responses', (c) => chatStream.fetch(c.req.raw));
  // Website visitors (the widget): sessions, chats, streamed answers and their CORS preflights.
  app.all('/v1/public/*', (c) => chatStream.fetch(c.req.raw));
  // The local twin of a presigned S3 PUT: the signed token in the URL is the authority (no bearer token), and
  // the bytes stream to disk within the declared size.
  app.put(`${UPLOAD_PATH}:token`, async (c) => {
    try {
      await p.blobStore.receiveUpload(c.req.param('token'), {
        body: c.req.raw.body,
        contentType: c.req.header('content-type'),
        contentLength: c.req.header('content-length'),
      });
      return c.body(null, 200);
    } catch (error) {
      return errorToResponse(error, c, p.logger);
    }
  });
  app.get('/', (c) => serveWeb(c.req.raw, 'index.html'));
  app.get('/ui/*', (c) => serveWeb(c.req.raw, c.req.path.slice('/ui/'.length)));
  app.all('*', (c) => api.fetch(c.req.raw));
  return { app, worker, sweeper: uploadSweeper(p) };
}

function uploadSweeper(p: LocalPlatform): LocalServer['sweeper'] {
  let timer: NodeJS.Timeout | undefined;
  const sweep = async () => {
    try {
      await sweepAbandonedUploads(p);
      await p.blobStore.sweepTemporary(SWEEP_INTERVAL_MS);
    } catch (error) {
      p.logger.warn('upload sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  return {
    sweep,
    start() {
      void sweep();
      timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

async function serveWeb(_request: Request, file: string): Promise<Response> {
  const path = normalize(join(WEB_DIR, file));
  if (!path.startsWith(WEB_DIR)) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(path);
    return new Response(body, {
      headers: {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        ...PLAYGROUND_SECURITY_HEADERS,
      },
    });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}
