import { ValidationError } from '#shared/domain/errors.ts';
import type { EmbeddingSpace } from '#shared/ports/embedder.ts';

/*
 * What each Bedrock embedding model accepts, without the SDK: the composition root checks the settings and
 * names the embedding space at start-up, and the adapter (with the SDK) loads on the first embedding.
 */

export const DEFAULT_BEDROCK_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';
/** Cohere Embed on Bedrock takes at most 96 texts per request. */
const COHERE_MAX_TEXTS = 96;
/** Titan: what one embed() call fans out over its bounded concurrency (the embedding group's batch). */
const TITAN_BATCH = 128;

export type EmbeddingFamily = 'titan' | 'cohere-v3' | 'cohere-v4';

interface ModelFamily {
  readonly kind: EmbeddingFamily;
  readonly maxBatchSize: number;
  readonly dimensions: readonly number[];
  readonly defaultDimensions: number;
}

function familyOf(model: string): ModelFamily {
  if (/^amazon\.titan-embed-text-v2/.test(model)) {
    return {
      kind: 'titan',
      maxBatchSize: TITAN_BATCH,
      dimensions: [256, 512, 1024],
      defaultDimensions: 1024,
    };
  }
  if (/^cohere\.embed-v4/.test(model)) {
    return {
      kind: 'cohere-v4',
      maxBatchSize: COHERE_MAX_TEXTS,
      dimensions: [256, 512, 1024, 1536],
      defaultDimensions: 1536,
    };
  }
  if (/^cohere\.embed-(english|multilingual)-v3/.test(model)) {
    return { kind: 'cohere-v3', maxBatchSize: COHERE_MAX_TEXTS, dimensions: [1024], defaultDimensions: 1024 };
  }
  throw new ValidationError(
    `Bedrock embedding model "${model}" is not supported: use amazon.titan-embed-text-v2:0, cohere.embed-english-v3, cohere.embed-multilingual-v3 or cohere.embed-v4:0.`,
  );
}

/** The space and batch size of a Bedrock embedding model; a ValidationError for an unsupported model or size. */
export function bedrockEmbeddingModel(
  model: string | undefined,
  dimensions: number | undefined,
): { space: EmbeddingSpace; maxBatchSize: number; family: EmbeddingFamily } {
  const id = model ?? DEFAULT_BEDROCK_EMBEDDING_MODEL;
  const family = familyOf(id);
  const size = dimensions ?? family.defaultDimensions;
  if (!family.dimensions.includes(size)) {
    throw new ValidationError(
      `Bedrock embedding model "${id}" makes vectors of ${family.dimensions.join(', ')} dimensions, not ${size}.`,
    );
  }
  return {
    space: { provider: 'bedrock', model: id, dimensions: size },
    maxBatchSize: family.maxBatchSize,
    family: family.kind,
  };
}
