import { ValidationError } from '../domain/errors.ts';
import { isUuid, type TenantId } from '../domain/ids.ts';
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

/**
 * The storage name of a space: `minirag_<provider>_<model>_<dimensions>`, lower-case and limited to
 * [a-z0-9_.-] (valid as a Qdrant collection name and safe to inline in DDL). When sanitising changed the
 * name (e.g. `BAAI/bge-small`), a short hash of the exact space is appended so two spaces can never map
 * to the same name.
 */
export function embeddingSpaceName(space: EmbeddingSpace): string {
  const clean = (part: string) => part.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  const raw = `minirag_${space.provider}_${space.model}_${space.dimensions}`;
  const name = `minirag_${clean(space.provider)}_${clean(space.model)}_${space.dimensions}`;
  return name === raw ? name : `${name}_${fnv1a(raw)}`;
}

/** 32-bit FNV-1a, hex: only disambiguates sanitised names, so no cryptographic strength is needed. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * Both adapters reject a vector that does not belong to the space before it reaches storage: Qdrant would
 * answer with a dimension error, and pgvector would store it and then fail every search of the space.
 */
export function assertVectorFits(space: EmbeddingSpace, vector: readonly number[], what = 'vector'): void {
  if (vector.length !== space.dimensions) {
    throw new ValidationError(
      `${what} has ${vector.length} dimensions, but space ${space.provider}/${space.model} has ${space.dimensions}`,
    );
  }
  if (!vector.every(Number.isFinite))
    throw new ValidationError(`${what} contains a value that is not a finite number`);
}

/** Point, source and chunk ids are UUIDs in both stores (Qdrant accepts no other strings as point ids). */
export function assertPointFits(space: EmbeddingSpace, point: VectorPoint): void {
  for (const [field, value] of [
    ['id', point.id],
    ['sourceId', point.sourceId],
    ['chunkId', point.chunkId],
  ] as const) {
    if (!isUuid(value))
      throw new ValidationError(`vector point ${field} is not a UUID: ${value.slice(0, 40)}`);
  }
  if (!Number.isInteger(point.sourceVersion)) {
    throw new ValidationError(`vector point ${point.id} has a source version that is not an integer`);
  }
  assertVectorFits(space, point.vector, `vector of point ${point.id}`);
}
