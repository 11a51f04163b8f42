import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { tenantAuth } from '#shared/adapters/hono/auth.ts';
import type { AppEnv } from '#shared/adapters/hono/env.ts';
import { createRouter, describeIssues } from '#shared/adapters/hono/router.ts';
import {
  IdParam,
  iso,
  json,
  listOf,
  PageQuery,
  security,
  standardErrors,
  text,
} from '#shared/adapters/hono/schemas.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '#shared/domain/errors.ts';
import type { Platform } from '#shared/platform.ts';
import { detectSourceType } from '#shared/rag/extract/index.ts';
import type { Source } from '#shared/repositories/sources.ts';
import {
  createSource,
  getSource,
  listTenantSources,
  type NewSourceInput,
  reingestSource,
  removeSource,
  type SourceDeps,
} from '#shared/usecases/sources.ts';

const Status = z.enum(['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED']);
const SourceSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    type: z.enum(['text', 'markdown', 'html', 'url', 'pdf', 'docx']),
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

const Tags = z.array(text(100).min(1)).max(50);
const CreateSourceJson = z
  .object({
    title: text(500).min(1),
    type: z.enum(['text', 'markdown', 'html', 'url']),
    content: text(50_000_000).min(1).optional(),
    url: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .max(2000)
      .optional(),
    tags: Tags.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'url' && !v.url)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required when type is url' });
    if (v.type !== 'url' && !v.content) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: `is required when type is ${v.type}` });
    }
  })
  .openapi('CreateSource');

const UploadForm = z.object({
  file: z
    .any()
    .openapi({ type: 'string', format: 'binary', description: 'PDF, DOCX, HTML, Markdown or plain text' }),
  title: z.string().optional(),
  tags: z.string().optional().openapi({ description: 'Comma-separated tags' }),
});

/** Reads either body kind into one input; everything is checked before anything is stored. */
async function readSourceInput(c: Context<AppEnv>, maxBytes: number): Promise<NewSourceInput> {
  const contentType = c.req.header('content-type') ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    const form = await c.req.parseBody({ all: false });
    const file = form.file;
    if (!(file instanceof File))
      throw new ValidationError('The upload needs a `file` field containing the document.');
    if (file.size > maxBytes)
      throw new PayloadTooLargeError(`The file is larger than the limit of ${maxBytes} bytes.`);
    if (file.size === 0) throw new ValidationError('The uploaded file is empty.');
    const type = detectSourceType(file.name, file.type);
    const tags =
      typeof form.tags === 'string'
        ? form.tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : [];
    const parsedTags = Tags.safeParse(tags);
    if (!parsedTags.success) throw new ValidationError(`tags: ${parsedTags.error.issues[0]?.message}`);
    const title =
      typeof form.title === 'string' && form.title.trim() ? form.title.trim().slice(0, 500) : file.name;
    return {
      title,
      type,
      content: new Uint8Array(await file.arrayBuffer()),
      contentType: file.type || undefined,
      tags,
    };
  }
  if (!contentType.startsWith('application/json')) {
    throw new UnsupportedMediaTypeError('Send application/json, or multipart/form-data with a `file` field.');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  const parsed = CreateSourceJson.safeParse(body);
  if (!parsed.success) {
    const errors = describeIssues(parsed.error.issues, 'body');
    throw new ValidationError(
      `The request is not valid. ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      {
        details: { errors },
      },
    );
  }
  const v = parsed.data;
  if (v.content && Buffer.byteLength(v.content) > maxBytes) {
    throw new PayloadTooLargeError(`The content is larger than the limit of ${maxBytes} bytes.`);
  }
  return { title: v.title, type: v.type, content: v.content, url: v.url, tags: v.tags, metadata: v.metadata };
}

export function sourceRoutes(p: Platform) {
  const app = createRouter();
  const deps: SourceDeps = {
    db: p.db,
    ingestQueue: p.ingestQueue,
    vectorStore: p.vectorStore,
    embeddingSpace: p.embedder.space,
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

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      summary: 'Delete a source with its chunks and vectors',
      security,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...standardErrors },
    }),
    async (c) => {
      await removeSource(c.get('auth'), c.req.valid('param').id, deps);
      return c.body(null, 204);
    },
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
