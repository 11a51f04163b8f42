import { type BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { ProviderError, ValidationError } from '#shared/domain/errors.ts';
import type { Embedder, EmbeddingResult, EmbedOptions } from '#shared/ports/embedder.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { bedrockError } from './bedrock-errors.ts';
import { bedrockEmbeddingModel } from './embedding-models.ts';

export interface BedrockEmbedderOptions {
  readonly client: BedrockRuntimeClient;
  /** `amazon.titan-embed-text-v2:0` (default), `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`, `cohere.embed-v4:0`. */
  readonly model?: string;
  /** Titan V2: 256, 512 or 1024 (default); Cohere v4: 256, 512, 1024 or 1536 (default); Cohere v3: 1024. */
  readonly dimensions?: number;
  /** The client's region, for messages. */
  readonly region: string;
  /** Titan takes one text per request: this many requests run at once. Default 8. */
  readonly concurrency?: number;
}

/**
 * An Embedder on Bedrock's InvokeModel: Amazon Titan Text Embeddings V2 (one text per request, sent with
 * bounded concurrency, vectors normalized) or Cohere Embed v3/v4 (up to 96 texts per request, with
 * `input_type` search_document for passages and search_query for questions). The embedding space is the
 * model and its dimension, as for every embedder.
 */
export function createBedrockEmbedder(options: BedrockEmbedderOptions): Embedder {
  const { space, maxBatchSize, family } = bedrockEmbeddingModel(options.model, options.dimensions);
  const { model, dimensions } = space;
  const target = { model, region: options.region };
  const concurrency = Math.max(1, options.concurrency ?? 8);

  async function invoke(body: object, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const response = await options.client
      .send(
        new InvokeModelCommand({
          modelId: model,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify(body),
        }),
        signal ? { abortSignal: signal } : {},
      )
      .catch((error: unknown) => {
        signal?.throwIfAborted();
        throw bedrockError(error, target);
      });
    return JSON.parse(response.body.transformToString()) as Record<string, unknown>;
  }

  async function embedTitan(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const vectors: number[][] = new Array(texts.length);
    let inputTokens = 0;
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const index = next++;
        const result = await invoke({ inputText: texts[index], dimensions, normalize: true }, signal);
        vectors[index] = checked(result['embedding'], dimensions, model);
        inputTokens += Number(result['inputTextTokenCount'] ?? countTokens(texts[index]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, texts.length) }, worker));
    return { vectors, inputTokens };
  }

  async function embedCohere(texts: readonly string[], options: EmbedOptions): Promise<EmbeddingResult> {
    const result = await invoke(
      {
        texts,
        input_type: options.purpose === 'query' ? 'search_query' : 'search_document',
        truncate: 'END',
        embedding_types: ['float'],
        ...(family === 'cohere-v4' ? { output_dimension: dimensions } : {}),
      },
      options.signal,
    );
    const raw = result['embeddings'];
    const list = Array.isArray(raw) ? raw : (raw as { float?: unknown } | undefined)?.float;
    if (!Array.isArray(list) || list.length !== texts.length) {
      throw new ProviderError(
        `Amazon Bedrock returned ${Array.isArray(list) ? list.length : 0} embeddings for ${texts.length} texts.`,
      );
    }
    // Cohere on Bedrock reports no token count in the body: our own count keeps usage meaningful.
    return {
      vectors: list.map((v) => checked(v, dimensions, model)),
      inputTokens: texts.reduce((sum, t) => sum + countTokens(t), 0),
    };
  }

  return {
    space,
    maxBatchSize,
    async embed(texts, embedOptions = {}) {
      if (texts.length > maxBatchSize) {
        throw new ValidationError(`At most ${maxBatchSize} texts per embedding request, got ${texts.length}`);
      }
      if (texts.length === 0) return { vectors: [], inputTokens: 0 };
      return family === 'titan' ? embedTitan(texts, embedOptions.signal) : embedCohere(texts, embedOptions);
    },
  };
}

function checked(vector: unknown, dimensions: number, model: string): number[] {
  if (!Array.isArray(vector) || vector.length !== dimensions || !vector.every(Number.isFinite)) {
    throw new ProviderError(
      `Amazon Bedrock returned a vector of ${Array.isArray(vector) ? vector.length : 0} dimensions for model "${model}", expected ${dimensions}.`,
    );
  }
  return vector as number[];
}
