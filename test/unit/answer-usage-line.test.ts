import { describe, expect, it } from 'vitest';
import type { AnswerEvent } from '#cli/client/chat-session.ts';
import { renderAnswer } from '#cli/render/answer.ts';

/** The playground's own function, loaded as the browser loads it (an ES module without DOM access at import). */
const { usageText } = (await import(new URL('../../web/chat.js', import.meta.url).href)) as {
  usageText: (usage: Record<string, unknown>) => string;
};

async function* answer(provider: string, model: string): AsyncGenerator<AnswerEvent> {
  yield { type: 'meta', messageId: 'm' };
  yield { type: 'citations', citations: [] };
  yield { type: 'delta', text: 'An answer.' };
  yield { type: 'usage', inputTokens: 1940, outputTokens: 92, costUsd: 0, provider, model };
  yield { type: 'done', cited: [] };
}

async function rendered(provider: string, model: string): Promise<string> {
  let output = '';
  await renderAnswer(answer(provider, model), (chunk) => {
    output += chunk;
  });
  return output;
}

describe('the line under an answer', () => {
  it('when the answer is extractive (no model ran), then the CLI says "extractive, no model" instead of tokens and cost', async () => {
    const output = await rendered('extractive', 'extractive-v1');
    expect(output).toContain('extractive, no model');
    expect(output).not.toMatch(/tokens|\$0\.0000|1940/);
  });

  it('when a model wrote the answer, then the CLI shows its tokens and cost', async () => {
    const output = await rendered('openai', 'gpt-4o-mini');
    expect(output).toContain('1940 in / 92 out tokens, $0.0000');
    expect(output).not.toContain('no model');
  });

  it('when the playground renders the usage event, then it does the same', () => {
    const wire = { input_tokens: 1940, output_tokens: 92, cost_usd: 0 };
    expect(usageText({ ...wire, provider: 'extractive', model: 'extractive-v1' })).toBe(
      'extractive, no model',
    );
    expect(usageText({ ...wire, provider: 'openai', model: 'gpt-4o-mini' })).toBe(
      '1940 input / 92 output tokens · $0.0000',
    );
  });
});
