/**
 * Embedding chunks in provider-sized batches, and sharing those batches between the sources delivered
 * together. Outside code imports this file only; the other modules here are its parts.
 */
export {
  type EmbedInBatchesOptions,
  type EmbedInBatchesResult,
  embedInBatches,
  isRetryable,
  type Sleep,
} from './embed-in-batches.ts';
export {
  createEmbeddingGroup,
  type EmbeddingGroupMember,
  type EmbeddingGroupOptions,
  embeddingGroupsByTenant,
} from './embedding-group.ts';
