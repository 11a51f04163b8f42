import { createRoute } from '@hono/zod-openapi';
import { tenantAuth } from '#shared/http/auth.ts';
import { inlineUploadLimit } from '#shared/http/body-limits.ts';
import { createRouter, deleteByIdRoute } from '#shared/http/router.ts';
import { IdParam, json, listOf, PageQuery, requires, standardErrors, text } from '#shared/http/schemas.ts';
import type { Platform } from '#shared/platform.ts';
import {
  createSource,
  getSource,
  listTenantSources,
  reingestSource,
  removeSource,
} from '#shared/usecases/sources.ts';
import type { UploadDeps } from '#shared/usecases/uploads.ts';
import { CreateSourceJson, readSourceInput, UploadForm } from './source-input.ts';
import { SourceSchema, SourceStatus as Status, sourceJson } from './source-json.ts';
import { addUploadRoutes } from './source-uploads.ts';

export function sourceRoutes(p: Platform) {
  const app = createRouter();
  const deps: UploadDeps = {
    db: p.db,
    ingestQueue: p.ingestQueue,
    vectorStore: p.vectorStore,
    blobStore: p.blobStore,
    embeddingSpace: p.embedder.space,
    ingestMaxAttempts: p.config.INGEST_MAX_ATTEMPTS,
    maxUploadBytes: p.config.MAX_UPLOAD_BYTES,
    uploadUrlSeconds: p.config.UPLOAD_URL_SECONDS,
  };
  app.use('*', tenantAuth({ db: p.db, ...p.secrets }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary:
        'Add a source (JSON text/markdown/html/url, or a multipart file upload); ingestion starts at once',
      security: requires('sources:write'),
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
          await createSource(c.get('auth'), await readSourceInput(c, inlineUploadLimit(p.config)), deps),
        ),
        202,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: "List the tenant's sources",
      security: requires('read'),
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
      security: requires('read'),
      request: { params: IdParam },
      responses: { 200: json(SourceSchema, 'The source'), ...standardErrors },
    }),
    async (c) => c.json(sourceJson(await getSource(c.get('auth'), c.req.valid('param').id, deps)), 200),
  );

  addUploadRoutes(app, deps);

  deleteByIdRoute(app, 'sources:write', 'Delete a source with its chunks and vectors', (auth, id) =>
    removeSource(auth, id, deps),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/reingest',
      summary: 'Ingest the source again as a new version',
      security: requires('sources:write'),
      request: { params: IdParam },
      responses: { 202: json(SourceSchema, 'Queued'), ...standardErrors },
    }),
    async (c) => c.json(sourceJson(await reingestSource(c.get('auth'), c.req.valid('param').id, deps)), 202),
  );
  return app;
}
