/**
 * List prices in USD per million tokens, used to put a cost on usage events. Unknown models cost 0 and
 * are still counted in tokens. Operators can extend this table; prices change, tokens do not.
 */
const PRICES: Record<string, { input: number; output: number }> = {
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6 },
  'openai/gpt-4o': { input: 2.5, output: 10 },
  'openai/gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'openai/gpt-4.1': { input: 2, output: 8 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'anthropic/claude-3-5-haiku-latest': { input: 0.8, output: 4 },
  'anthropic/claude-sonnet-4-5': { input: 3, output: 15 },
  'anthropic/claude-opus-4-1': { input: 15, output: 75 },
  // Amazon Bedrock, on-demand in us-east-1; a cross-region inference profile (us./eu./apac./global.) costs
  // what its model costs.
  'bedrock/amazon.nova-micro-v1:0': { input: 0.035, output: 0.14 },
  'bedrock/amazon.nova-lite-v1:0': { input: 0.06, output: 0.24 },
  'bedrock/amazon.nova-pro-v1:0': { input: 0.8, output: 3.2 },
  'bedrock/anthropic.claude-haiku-4-5-20251001-v1:0': { input: 1, output: 5 },
  'bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0': { input: 3, output: 15 },
  'bedrock/meta.llama3-3-70b-instruct-v1:0': { input: 0.72, output: 0.72 },
  'bedrock/mistral.mistral-large-2407-v1:0': { input: 2, output: 6 },
  'bedrock/amazon.titan-embed-text-v2:0': { input: 0.02, output: 0 },
  'bedrock/cohere.embed-english-v3': { input: 0.1, output: 0 },
  'bedrock/cohere.embed-multilingual-v3': { input: 0.1, output: 0 },
  'bedrock/cohere.embed-v4:0': { input: 0.12, output: 0 },
};

/** Rerank models are priced per search (one query over up to 100 documents): USD per 1,000 searches. */
const RERANK_PRICES: Record<string, number> = {
  'bedrock/amazon.rerank-v1:0': 1,
  'bedrock/cohere.rerank-v3-5:0': 2,
  'cohere/rerank-v3.5': 2,
  'cohere/rerank-english-v3.0': 2,
  'cohere/rerank-multilingual-v3.0': 2,
};

/** `us.anthropic.claude-…` → `anthropic.claude-…`; an ARN → its last path part. */
function priceKey(provider: string, model: string): string {
  if (provider !== 'bedrock') return `${provider}/${model}`;
  const id = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  return `bedrock/${id.replace(/^(us|eu|apac|us-gov|global|jp|au|ca)\./, '')}`;
}

export function rerankCostUsd(provider: string, model: string, searchUnits: number): number {
  return ((RERANK_PRICES[priceKey(provider, model)] ?? 0) * searchUnits) / 1000;
}

export function costUsd(provider: string, model: string, inputTokens: number, outputTokens: number): number {
  const price = PRICES[priceKey(provider, model)];
  if (!price) return 0;
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}
