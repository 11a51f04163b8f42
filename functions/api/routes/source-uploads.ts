import type { OpenAPIHono } from '@hono/zod-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '#shared/http/env.ts';
import {
  IdParam,
  iso,
  json,
  jsonBody,
  jsonObject,
  requires,
  standardErrors,
  text,
} from '#shared/http/schemas.ts';
import { completeUpload, startUpload, type UploadDeps } from '#shared/usecases/uploads.ts';
import { SourceSchema, sourceJson } from './source-json.ts';

const CreateUpload = z
  .object({
    filename: text(500).min(1).openapi({ example: 'annual-report-2025.pdf' }),
    content_type: z
      .string()
      .min(3)
      .max(200)
      .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'must be a media type such as application/pdf')
      .openapi({ example: 'application/pdf' }),
    // The bound of what can be stored (a 32-bit size); the deployment's own limit answers 413 below it.
    size_bytes: z.number().int().min(0).max(2_000_000_000).openapi({ example: 62_914_560 }),
    title: text(500).min(1).optional(),
    tags: z.array(text(100).min(1)).max(50).optional(),
    metadata: jsonObject.optional(),
  })
  .openapi('CreateUpload');

const UploadTicket = z
  .object({
    source_id: z.string(),
    upload: z.object({
      method: z.literal('PUT'),
      url: z.string().openapi({ description: 'Send the file here, with exactly these headers' }),
      headers: z.record(z.string(), z.string()),
    }),
    expires_at: z.string().openapi({ description: 'The upload URL is refused after this time' }),
  })
  .openapi('UploadTicket');

/**
 * Direct uploads: the file goes straight to the blob store (S3, or the local server's upload route), never
 * through the API function, so its size is bounded by MAX_UPLOAD_BYTES rather than a request payload.
 */
export function addUploadRoutes(app: OpenAPIHono<AppEnv>, deps: UploadDeps) {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads',
      summary:
        'Start a direct upload: creates the source (AWAITING_UPLOAD) and returns where to PUT the file',
      description:
        'Declare the file; PUT its bytes to `upload.url` with `upload.headers` (and a Content-Length of exactly ' +
        '`size_bytes`) before `expires_at`; then call `POST /v1/sources/{id}/complete`. A source never completed ' +
        'is removed after 24 hours.',
      security: requires('sources:write'),
      request: { body: jsonBody(CreateUpload) },
      responses: {
        201: json(UploadTicket, 'The source was created; upload the file to `upload.url`'),
        413: standardErrors[400],
        415: standardErrors[400],
        ...standardErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { source, upload } = await startUpload(
        c.get('auth'),
        {
          filename: body.filename,
          contentType: body.content_type,
          sizeBytes: body.size_bytes,
          title: body.title,
          tags: body.tags,
          metadata: body.metadata,
        },
        deps,
      );
      // The local store answers with a path on this server; S3 with an absolute URL, kept as it is.
      const url = new URL(upload.url, c.req.url).href;
      return c.json(
        {
          source_id: source.id,
          upload: { method: upload.method, url, headers: upload.headers },
          expires_at: iso(upload.expiresAt)!,
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/complete',
      summary: 'Confirm a direct upload: checks the stored file and queues its ingestion (idempotent)',
      security: requires('sources:write'),
      request: { params: IdParam },
      responses: {
        202: json(SourceSchema, 'Queued for ingestion (or already past that point)'),
        409: standardErrors[400],
        ...standardErrors,
      },
    }),
    async (c) => c.json(sourceJson(await completeUpload(c.get('auth'), c.req.valid('param').id, deps)), 202),
  );
}
