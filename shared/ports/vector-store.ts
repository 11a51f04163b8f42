import type { TenantId } from '../domain/ids.ts';
import type { EmbeddingSpace } from './embedder.ts';

/** One embedded chunk. `id` is the deterministic `pointId(...)`, also the chunk row's id. */
export interface VectorPoint {
  readonly id: string;
  readonly vector: number[];
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly chunkId: string;
  readonly tags: string[];
}

export interface VectorHit {
  readonly id: string;
  readonly chunkId: string;
  readonly sourceId: string;
  /**
   * Lets retrieval drop a hit from a version that is being replaced: between upserting a re-ingested
   * source and deleting its old version, both versions' points exist.
   */
  readonly sourceVersion: number;
  /** Cosine similarity, higher is nearer (1 = same direction). */
  readonly score: number;
}

export interface VectorSearchOptions {
  readonly limit: number;
  /** Only points carrying at least one of these tags; absent or empty means no tag filter. */
  readonly tags?: readonly string[];
  /** Only hits with `score >= scoreThreshold`. */
  readonly scoreThreshold?: number;
}

/**
 * The VectorStore port. Every data method takes the tenant first and every adapter confines it to that
 * tenant (Qdrant: a `must` filter on the `is_tenant` payload index; pgvector: row-level security plus an
 * explicit `tenant_id` condition). Vectors of different embedding spaces are never compared.
 */
export interface VectorStore {
  /** Creates the collection / table and indexes for a space. Idempotent and safe to call concurrently. */
  ensureSpace(space: EmbeddingSpace): Promise<void>;
  /** Inserts or replaces points by id; visible to `search` when it resolves. */
  upsert(tenantId: TenantId, space: EmbeddingSpace, points: readonly VectorPoint[]): Promise<void>;
  /** Nearest points by cosine similarity, best first. */
  search(
    tenantId: TenantId,
    space: EmbeddingSpace,
    vector: readonly number[],
    opts: VectorSearchOptions,
  ): Promise<VectorHit[]>;
  /** Deletes a source's points; with `exceptVersion`, only its other versions (after a re-ingest). */
  deleteBySource(
    tenantId: TenantId,
    space: EmbeddingSpace,
    sourceId: string,
    opts?: { exceptVersion?: number },
  ): Promise<void>;
  /** Asks the store whether it answers right now (readiness probes); throws a ServiceUnavailableError if not. */
  ping?(space: EmbeddingSpace): Promise<void>;
  /**
   * Number of a source's points (optionally of one version). Optional in the port so a test double may
   * omit it; both real adapters implement it, for consistency checks between chunks and vectors.
   */
  countBySource?(
    tenantId: TenantId,
    space: EmbeddingSpace,
    sourceId: string,
    opts?: { version?: number },
  ): Promise<number>;
}
