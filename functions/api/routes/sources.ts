import { createRoute, z } from '@hono/zod-openapi';
import type { Source } from '#shared/domain/source.ts';
import { SOURCE_STATUSES, SOURCE_TYPES } from '#shared/domain/source.ts';
import { tenantAuth } from '#shared/http/auth.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import {
  IdParam,
  iso,
  json,
  listOf,
  PageQuery,
  security,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import {
  createSource,
  getSource,
  listTenantSources,
  reingestSource,
  removeSource,
  type SourceDeps,
} from '#shared/usecases/sources.ts';
import { CreateSourceJson, readSourceInput, UploadForm } from './source-input.ts';

const Status = z.enum(SOURCE_STATUSES);
const SourceSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    type: z.enum(SOURCE_TYPES),
    url: z.string().nullable(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    status: Status,
    error: z.string().nullable(),
    version: z.number(),
    chunk_count: z.number(),
    token_count: z.number(),
    size_bytes: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
    processed_at: z.string().nullable(),
  })
  .openapi('Source');

export const sourceJson = (s: Source) => ({
  id: s.id,
  title: s.title,
  type: s.type,
  url: s.url,
  tags: s.tags,
  metadata: s.metadata,
  status: s.status,
  error: s.error,
  version: s.version,
  chunk_count: s.chunkCount,
  token_count: s.tokenCount,
  size_bytes: s.sizeBytes,
  created_at: iso(s.createdAt)!,
  updated_at: iso(s.updatedAt)!,
  processed_at: iso(s.processedAt),
});

export function sourceRoutes(p: Platform) {
  const app = createRouter();
  const deps: SourceDeps = {
    db: p.db,
    ingestQueue: p.ingestQueue,
    vectorStore: p.vectorStore,
    embeddingSpace: p.embedder.space,
    ingestMaxAttempts: p.config.INGEST_MAX_ATTEMPTS,
  };
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary:
        'Add a source (JSON text/markdown/html/url, or a multipart file upload); ingestion starts at once',
      security,
      request: {
        body: {
          // Not `required: true`: with it @hono/zod-openapi runs the JSON *and* the form validator on
          // every request, so each kind of body fails the other's schema. Optional runs only the one
          // matching the content type; readSourceInput still refuses a missing or foreign body.
          required: false,
          content: {
            'application/json': { schema: CreateSourceJson },
            'multipart/form-data': { schema: UploadForm },
          },
        },
      },
      responses: {
        202: json(SourceSchema, 'Stored as PENDING and queued for ingestion'),
        409: standardErrors[400],
        413: standardErrors[400],
        415: standardErrors[400],
        ...standardErrors,
      },
    }),
    // Validated by hand: the body is JSON or multipart, and both must give the same problem documents.
    async (c) =>
      c.json(
        sourceJson(
          await createSource(c.get('auth'), await readSourceInput(c, p.config.MAX_UPLOAD_BYTES), deps),
        ),
        202,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's sources",
      security,
      request: { query: PageQuery.extend({ status: Status.optional(), tag: text(100).optional() }) },
      responses: { 200: json(listOf(SourceSchema), 'A page of sources'), ...standardErrors },
    }),
    async (c) => {
      const { status, tag, ...page } = c.req.valid('query');
      const result = await listTenantSources(c.get('auth'), { status, tag }, page, deps);
      return c.json({ data: result.data.map(sourceJson), next_cursor: result.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      summary: 'Get a source: status, error, chunk count, timestamps',
      security,
      request: { params: IdParam },
      responses: { 200: json(SourceSchema, 'The source'), ...standardErrors },
    }),
    async (c) => c.json(sourceJson(await getSource(c.get('auth'), c.req.valid('param').id, deps)), 200),
  );

  deleteByIdRoute(app, 'Delete a source with its chunks and vectors', (auth, id) =>
    removeSource(auth, id, deps),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/reingest',
      summary: 'Ingest the source again as a new version',
      security,
      request: { params: IdParam },
      responses: { 202: json(SourceSchema, 'Queued'), ...standardErrors },
    }),
    async (c) => c.json(sourceJson(await reingestSource(c.get('auth'), c.req.valid('param').id, deps)), 202),
  );
  return app;
}
