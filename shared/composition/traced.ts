import type { ChatEvent, ChatModel } from '../ports/chat-model.ts';
import type { Database } from '../ports/database.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { Tracing } from '../ports/telemetry.ts';
import type { VectorStore } from '../ports/vector-store.ts';

/**
 * The ports wrapped in trace spans (X-Ray subsegments in AWS), so a trace shows where a request waited:
 * `database` (one per transaction), `vector-store`, `embedder`, `provider`. Wrapped once per container at
 * composition; with no tracing the ports are returned as they are.
 */
export function tracedDatabase(db: Database, tracing: Tracing): Database {
  return {
    kind: db.kind,
    withTenant: (tenantId, fn) => tracing.span('database', () => db.withTenant(tenantId, fn)),
    withSettings: (settings, fn) => tracing.span('database', () => db.withSettings(settings, fn)),
    withSystem: (fn) => tracing.span('database', () => db.withSystem(fn)),
    close: () => db.close(),
  };
}

export function tracedVectorStore(store: VectorStore, tracing: Tracing): VectorStore {
  return {
    ...store,
    ensureSpace: (space) => tracing.span('vector-store', () => store.ensureSpace(space)),
    upsert: (tenantId, space, points) =>
      tracing.span('vector-store', () => store.upsert(tenantId, space, points)),
    search: (tenantId, space, vector, opts) =>
      tracing.span('vector-store', () => store.search(tenantId, space, vector, opts)),
    deleteBySource: (tenantId, space, sourceId, opts) =>
      tracing.span('vector-store', () => store.deleteBySource(tenantId, space, sourceId, opts)),
  };
}

export function tracedEmbedder(embedder: Embedder, tracing: Tracing): Embedder {
  return {
    space: embedder.space,
    maxBatchSize: embedder.maxBatchSize,
    embed: (texts, options) => tracing.span('embedder', () => embedder.embed(texts, options)),
  };
}

/** The provider's span of a streamed answer ends at its first event: what a slow provider costs the reader. */
export function tracedChatModel(model: ChatModel, tracing: Tracing): ChatModel {
  return {
    provider: model.provider,
    model: model.model,
    complete: (req) => tracing.span('provider', () => model.complete(req)),
    stream: (req) => ({
      [Symbol.asyncIterator](): AsyncIterator<ChatEvent> {
        const iterator = model.stream(req)[Symbol.asyncIterator]();
        let first = true;
        return {
          next: () => {
            if (!first) return iterator.next();
            first = false;
            return tracing.span('provider', () => iterator.next());
          },
          return: (value?: unknown) =>
            iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        };
      },
    }),
  };
}
