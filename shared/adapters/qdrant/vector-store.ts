import { QdrantClient } from '@qdrant/js-client-rest';
import { ServiceUnavailableError } from '../../domain/errors.ts';
import type { TenantId } from '../../domain/ids.ts';
import type { EmbeddingSpace } from '../../ports/embedder.ts';
import type { VectorHit, VectorPoint, VectorStore } from '../../ports/vector-store.ts';
import { assertPointFits, assertVectorFits, embeddingSpaceName } from '../vector-space.ts';
import { isAlreadyExists, qdrantProviderError } from './provider-error.ts';

export interface QdrantVectorStoreOptions {
  readonly url: string;
  readonly apiKey?: string;
  /** A preconfigured client (tests); built from `url` and `apiKey` when omitted. */
  readonly client?: QdrantClient;
  /** Per-request timeout; the client's default is 300 s, far longer than a Lambda invocation. */
  readonly timeoutMs?: number;
}

/**
 * Payload indexes. `tenant_id` is the tenant key (`is_tenant` co-locates each tenant's points, and with
 * `payload_m` it gets its own HNSW graph). The others only narrow a search or a delete within a tenant, so
 * they get no graph of their own (`enable_hnsw: false`); they are indexed at all because Qdrant's strict
 * mode (as on Qdrant Cloud) refuses filters on unindexed fields.
 */
const PAYLOAD_INDEXES = {
  tenant_id: { type: 'keyword', is_tenant: true },
  source_id: { type: 'keyword', enable_hnsw: false },
  source_version: { type: 'integer', lookup: true, range: false, enable_hnsw: false },
  tags: { type: 'keyword', enable_hnsw: false },
} as const;

type Condition = { key: string; match: { value: string | number } | { any: string[] } };

const tenantIs = (tenantId: TenantId): Condition => ({ key: 'tenant_id', match: { value: tenantId } });

/**
 * VectorStore on Qdrant: one collection per embedding space shared by all tenants (the multitenancy
 * guide's payload partitioning), every point carrying `tenant_id` and every read or delete filtered by it.
 * The global HNSW graph is disabled (`m: 0`) in favour of per-tenant graphs (`payload_m: 16`): no search
 * ever spans tenants, so a global graph would only cost indexing time.
 */
export function createQdrantVectorStore(options: QdrantVectorStoreOptions): Required<VectorStore> {
  const client =
    options.client ??
    new QdrantClient({
      url: options.url,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      timeout: options.timeoutMs ?? 30_000,
      // The check is a fire-and-forget request at construction that only logs a warning.
      checkCompatibility: false,
    });
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw qdrantProviderError(operation, error, options.apiKey);
    }
  };
  const ready = new Map<string, Promise<void>>();

  async function createSpace(space: EmbeddingSpace, name: string): Promise<void> {
    const { exists } = await call('collection lookup', () => client.collectionExists(name));
    if (!exists) {
      try {
        await client.createCollection(name, {
          vectors: { size: space.dimensions, distance: 'Cosine' },
          hnsw_config: { payload_m: 16, m: 0 },
        });
      } catch (error) {
        if (!isAlreadyExists(error)) throw qdrantProviderError('collection creation', error, options.apiKey);
      }
    }
    const info = await call('collection lookup', () => client.getCollection(name));
    const vectors = info.config.params.vectors as { size?: unknown } | undefined;
    if (vectors?.size !== space.dimensions) {
      throw new ServiceUnavailableError(
        `Qdrant collection ${name} exists with vectors of size ${String(vectors?.size)}, but the embedder makes ${space.dimensions}: set EMBEDDING_DIMENSIONS to match the collection, or drop the collection and ingest again.`,
        { retryable: false },
      );
    }
    for (const [field, schema] of Object.entries(PAYLOAD_INDEXES)) {
      if (info.payload_schema[field]) continue;
      await call('payload index creation', () =>
        client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true }),
      );
    }
  }

  /** Memoised per space; a failed attempt is forgotten so the next call retries. */
  function ensureSpace(space: EmbeddingSpace): Promise<void> {
    const name = embeddingSpaceName(space);
    let pending = ready.get(name);
    if (!pending) {
      pending = createSpace(space, name).catch((error: unknown) => {
        ready.delete(name);
        throw error;
      });
      ready.set(name, pending);
    }
    return pending;
  }

  function sourceFilter(tenantId: TenantId, sourceId: string, version: { is?: number; isNot?: number }) {
    return {
      must: [
        tenantIs(tenantId),
        { key: 'source_id', match: { value: sourceId } },
        ...(version.is === undefined ? [] : [{ key: 'source_version', match: { value: version.is } }]),
      ],
      ...(version.isNot === undefined
        ? {}
        : { must_not: [{ key: 'source_version', match: { value: version.isNot } }] }),
    };
  }

  return {
    ensureSpace,

    async ping(space) {
      await call('health check', () => client.collectionExists(embeddingSpaceName(space)));
    },

    async upsert(tenantId, space, points: readonly VectorPoint[]) {
      if (points.length === 0) return;
      for (const p of points) assertPointFits(space, p);
      await ensureSpace(space);
      const name = embeddingSpaceName(space);
      await call('upsert', () =>
        client.upsert(name, {
          wait: true,
          points: points.map((p) => ({
            id: p.id,
            vector: [...p.vector],
            payload: {
              tenant_id: tenantId,
              source_id: p.sourceId,
              source_version: p.sourceVersion,
              chunk_id: p.chunkId,
              tags: [...new Set(p.tags)],
            },
          })),
        }),
      );
    },

    async search(tenantId, space, vector, opts) {
      assertVectorFits(space, vector, 'query vector');
      const limit = Math.floor(opts.limit);
      if (!(limit >= 1)) return [];
      await ensureSpace(space);
      const tags = [...new Set(opts.tags ?? [])];
      const must: Condition[] = [
        tenantIs(tenantId),
        ...(tags.length > 0 ? [{ key: 'tags', match: { any: tags } }] : []),
      ];
      const { points } = await call('search', () =>
        client.query(embeddingSpaceName(space), {
          query: [...vector],
          filter: { must },
          limit,
          ...(opts.scoreThreshold === undefined ? {} : { score_threshold: opts.scoreThreshold }),
          with_payload: ['tenant_id', 'source_id', 'source_version', 'chunk_id'],
        }),
      );
      const hits: VectorHit[] = [];
      for (const point of points) {
        const payload = point.payload ?? {};
        // The filter already confines the search; this is the belt to its braces.
        if (payload.tenant_id !== tenantId) continue;
        hits.push({
          id: String(point.id),
          chunkId: String(payload.chunk_id),
          sourceId: String(payload.source_id),
          sourceVersion: Number(payload.source_version),
          score: point.score,
        });
      }
      return hits;
    },

    async deleteBySource(tenantId, space, sourceId, opts) {
      await ensureSpace(space);
      const filter = sourceFilter(tenantId, sourceId, {
        ...(opts?.exceptVersion === undefined ? {} : { isNot: opts.exceptVersion }),
      });
      await call('delete', () => client.delete(embeddingSpaceName(space), { wait: true, filter }));
    },

    async countBySource(tenantId, space, sourceId, opts) {
      await ensureSpace(space);
      const filter = sourceFilter(tenantId, sourceId, {
        ...(opts?.version === undefined ? {} : { is: opts.version }),
      });
      const { count } = await call('count', () =>
        client.count(embeddingSpaceName(space), { filter, exact: true }),
      );
      return count;
    },
  };
}
