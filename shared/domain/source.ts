/** A document a tenant ingests, and the vocabulary of its life cycle. */

export const SOURCE_TYPES = ['text', 'markdown', 'html', 'url', 'pdf', 'docx'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** The types a source can be created with as JSON (files arrive as uploads and get their type detected). */
export const INLINE_SOURCE_TYPES = [
  'text',
  'markdown',
  'html',
  'url',
] as const satisfies readonly SourceType[];

/**
 * AWAITING_UPLOAD: created by `POST /v1/sources/uploads`, its file not yet confirmed by
 * `POST /v1/sources/{id}/complete`; never ingested, removed 24 hours after creation if still waiting.
 */
export const SOURCE_STATUSES = ['AWAITING_UPLOAD', 'PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

export interface Source {
  readonly id: string;
  readonly tenantId: string;
  readonly title: string;
  readonly type: SourceType;
  readonly url: string | null;
  readonly tags: string[];
  readonly metadata: Record<string, unknown>;
  readonly contentType: string | null;
  readonly contentHash: string | null;
  readonly sizeBytes: number;
  /** Set when ingestion found the same content already ingested as this other source (then FAILED). */
  readonly duplicateOf: string | null;
  /** Until when the upload URL of an AWAITING_UPLOAD source is valid. */
  readonly uploadExpiresAt: Date | null;
  readonly version: number;
  readonly status: SourceStatus;
  readonly error: string | null;
  readonly chunkCount: number;
  readonly tokenCount: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly processedAt: Date | null;
}
