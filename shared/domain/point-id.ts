import { createHash } from 'node:crypto';

/**
 * Namespace of MiniRAG's vector point ids. Fixed forever: changing it would give every re-ingested chunk
 * a new id and leave the old points behind as duplicates.
 */
export const POINT_ID_NAMESPACE = '3e123b93-83ae-4d4a-b43d-e1c6f2d4f4de';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 9562 UUID version 5 (SHA-1 of namespace bytes + name), written out because node:crypto has only v4. */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID_RE.test(namespace)) throw new TypeError(`uuidV5: namespace is not a UUID: ${namespace}`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of one chunk of one version of a source, used both as the vector point id and as the chunk row
 * id. Deterministic, so a redelivered ingest message overwrites the same points instead of adding
 * duplicates; the tenant is part of the name so two tenants can never collide on an id.
 */
export function pointId(tenantId: string, sourceId: string, version: number, ordinal: number): string {
  return uuidV5(`${tenantId}:${sourceId}:${version}:${ordinal}`, POINT_ID_NAMESPACE);
}
