import { z } from '@hono/zod-openapi';
import type { Source } from '#shared/domain/source.ts';
import { SOURCE_STATUSES, SOURCE_TYPES } from '#shared/domain/source.ts';
import { iso } from '#shared/http/schemas.ts';

/** A source as the API shows it (snake_case; the raw content and storage keys never leave the server). */
export const SourceStatus = z.enum(SOURCE_STATUSES);
export const SourceSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    type: z.enum(SOURCE_TYPES),
    url: z.string().nullable(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    status: SourceStatus,
    error: z.string().nullable(),
    version: z.number(),
    chunk_count: z.number(),
    token_count: z.number(),
    size_bytes: z.number(),
    duplicate_of: z.string().nullable().openapi({
      description:
        'Set when ingestion found the same content already ingested as this source (status FAILED)',
    }),
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
  duplicate_of: s.duplicateOf,
  created_at: iso(s.createdAt)!,
  updated_at: iso(s.updatedAt)!,
  processed_at: iso(s.processedAt),
});
