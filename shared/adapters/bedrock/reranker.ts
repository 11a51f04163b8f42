import { type BedrockAgentRuntimeClient, RerankCommand } from '@aws-sdk/client-bedrock-agent-runtime';
import { ProviderError } from '#shared/domain/errors.ts';
import type { Reranker, RerankResult } from '#shared/ports/reranker.ts';
import { bedrockError } from './bedrock-errors.ts';

export interface BedrockRerankerOptions {
  readonly client: BedrockAgentRuntimeClient;
  /** `amazon.rerank-v1:0`, `cohere.rerank-v3-5:0`, or a model ARN. */
  readonly model: string;
  /** The client's region: where a bare model id's foundation-model ARN points. */
  readonly region: string;
}

/** Bedrock's Rerank takes at most 1,000 sources; we send far fewer (a bot's top_k). */
const MAX_SOURCES = 1000;

/** The foundation-model ARN the Rerank API wants, from a model id (an ARN is kept as given). */
export function rerankModelArn(model: string, region: string): string {
  return model.startsWith('arn:') ? model : `arn:aws:bedrock:${region}::foundation-model/${model}`;
}

/**
 * A Reranker on the Bedrock agent runtime's Rerank API (Amazon Rerank, Cohere Rerank on Bedrock), with the
 * deployment's IAM identity. Bedrock bills one query per call for up to 100 documents.
 */
export function createBedrockReranker(options: BedrockRerankerOptions): Reranker {
  const modelArn = rerankModelArn(options.model, options.region);
  const target = { model: options.model, region: options.region };
  return {
    provider: 'bedrock',
    model: options.model,
    async rerank(query, documents, { topN, signal }): Promise<RerankResult> {
      if (documents.length === 0) return { ranking: [], searchUnits: 0 };
      if (documents.length > MAX_SOURCES) {
        throw new ProviderError(`At most ${MAX_SOURCES} documents per rerank request.`, { status: 400 });
      }
      const response = await options.client
        .send(
          new RerankCommand({
            queries: [{ type: 'TEXT', textQuery: { text: query } }],
            sources: documents.map((text) => ({
              type: 'INLINE',
              inlineDocumentSource: { type: 'TEXT', textDocument: { text } },
            })),
            rerankingConfiguration: {
              type: 'BEDROCK_RERANKING_MODEL',
              bedrockRerankingConfiguration: {
                numberOfResults: Math.min(topN, documents.length),
                modelConfiguration: { modelArn },
              },
            },
          }),
          signal ? { abortSignal: signal } : {},
        )
        .catch((error: unknown) => {
          signal?.throwIfAborted();
          throw bedrockError(error, target);
        });
      const seen = new Set<number>();
      const ranking = (response.results ?? [])
        .filter(
          (r) =>
            r.index !== undefined && r.index < documents.length && !seen.has(r.index) && seen.add(r.index),
        )
        .slice(0, topN)
        .map((r) => ({ index: r.index!, score: r.relevanceScore ?? 0 }));
      return { ranking, searchUnits: Math.ceil(documents.length / 100) };
    },
  };
}
