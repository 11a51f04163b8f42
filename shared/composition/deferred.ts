import type { QdrantVectorStoreOptions } from '../adapters/qdrant/vector-store.ts';
import type { Embedder, EmbeddingSpace } from '../ports/embedder.ts';
import type { VectorStore } from '../ports/vector-store.ts';

/*
 * Adapters whose SDKs are large (the OpenAI SDK, the Qdrant client with undici) are loaded on first use, not
 * when a function starts: a Lambda cold start then parses only what its first request needs, and a request
 * that never embeds or searches (listing sources, say) never loads them at all. The bundler turns each
 * dynamic import() into a chunk of its own.
 */

/** One load shared by every caller; a failed load is retried by the next call instead of being cached. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** An Embedder whose implementation loads on the first `embed`; its space is known up front. */
export function deferredEmbedder(
  space: EmbeddingSpace,
  maxBatchSize: number,
  load: () => Promise<Embedder>,
): Embedder {
  const embedder = once(load);
  return {
    space,
    maxBatchSize,
    async embed(texts, options) {
      return (await embedder()).embed(texts, options);
    },
  };
}

/** The Qdrant VectorStore, with the client loaded on the first call. */
export function deferredQdrantVectorStore(options: QdrantVectorStoreOptions): Required<VectorStore> {
  const store = once(async () =>
    (await import('../adapters/qdrant/vector-store.ts')).createQdrantVectorStore(options),
  );
  return {
    ensureSpace: async (space) => (await store()).ensureSpace(space),
    upsert: async (tenantId, space, points) => (await store()).upsert(tenantId, space, points),
    search: async (tenantId, space, vector, opts) => (await store()).search(tenantId, space, vector, opts),
    deleteBySource: async (tenantId, space, sourceId, opts) =>
      (await store()).deleteBySource(tenantId, space, sourceId, opts),
    ping: async (space) => (await store()).ping(space),
    countBySource: async (tenantId, space, sourceId, opts) =>
      (await store()).countBySource(tenantId, space, sourceId, opts),
  };
}
