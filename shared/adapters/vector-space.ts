import { ValidationError } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import type { EmbeddingSpace } from '../ports/embedder.ts';
import type { VectorPoint } from '../ports/vector-store.ts';

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
