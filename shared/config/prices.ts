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
};

export function costUsd(provider: string, model: string, inputTokens: number, outputTokens: number): number {
  const price = PRICES[`${provider}/${model}`];
  if (!price) return 0;
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}
