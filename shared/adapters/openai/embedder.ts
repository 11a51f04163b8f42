import OpenAI from 'openai';
import type { Embedding } from 'openai/resources/embeddings';
import { ProviderError, ValidationError } from '#shared/domain/errors.ts';
import type { Embedder, EmbeddingResult } from '#shared/ports/embedder.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { MAX_BATCH_SIZE, type OpenAiEmbedderOptions, openAiEmbeddingSpace } from './embedding-space.ts';
import { openAiError, openAiLabel } from './openai-errors.ts';

export type { OpenAiEmbedderOptions };

/**
 * An Embedder on the official `openai` SDK. One `embed()` is one API request: the SDK's own retries are
 * off because `embedInBatches` retries (and counts attempts) itself, using the ProviderError's status
 * and `retryAfterSeconds`.
 */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const space = openAiEmbeddingSpace(options);
  const { provider, model, dimensions } = space;
  const client = new OpenAI({
    apiKey: options.apiKey,
    // Explicit values so that nothing comes from the operator's OPENAI_* environment.
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
  });
  const label = openAiLabel(provider);

  return {
    space,
    maxBatchSize: MAX_BATCH_SIZE,
    async embed(texts, embedOptions): Promise<EmbeddingResult> {
      if (texts.length > MAX_BATCH_SIZE) {
        throw new ValidationError(
          `At most ${MAX_BATCH_SIZE} texts per embedding request, got ${texts.length}`,
        );
      }
      if (texts.length === 0) return { vectors: [], inputTokens: 0 };
      const response = await client.embeddings
        .create(
          {
            model,
            input: [...texts],
            ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
            // Asked for explicitly so the SDK hands the payload over undecoded: OpenAI answers base64
            // (a quarter of the JSON), while compatible servers are asked for plain floats, which is
            // what many of them send whatever was asked.
            encoding_format: provider === 'openai' ? 'base64' : 'float',
          },
          { signal: embedOptions?.signal },
        )
        .catch((error: unknown) => {
          // An abort is the caller's, not a provider failure.
          embedOptions?.signal?.throwIfAborted();
          throw openAiError(error, provider, options.apiKey);
        });
      const data = [...response.data].sort((a, b) => a.index - b.index);
      if (data.length !== texts.length) {
        throw new ProviderError(`${label} returned ${data.length} embeddings for ${texts.length} texts.`);
      }
      const vectors = data.map(toVector);
      const wrongSize = vectors.find((v) => v.length !== dimensions);
      if (wrongSize) {
        throw new ProviderError(
          `${label} returned vectors of ${wrongSize.length} dimensions for model "${model}", expected ${dimensions}.`,
        );
      }
      // Some compatible servers report no usage; our own count keeps the usage events meaningful.
      const inputTokens = response.usage?.prompt_tokens ?? texts.reduce((sum, t) => sum + countTokens(t), 0);
      return { vectors, inputTokens };
    },
  };
}

/** A vector as either encoding: base64 is little-endian float32, as OpenAI documents it. */
function toVector(item: Embedding): number[] {
  const raw: unknown = item.embedding;
  if (Array.isArray(raw)) return raw as number[];
  if (typeof raw !== 'string') throw new ProviderError('The embedding response carried no vector.');
  const bytes = Buffer.from(raw, 'base64');
  const floats = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < floats.length; i++) floats[i] = bytes.readFloatLE(i * 4);
  return Array.from(floats);
}
