import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/domain/errors.ts';
import type { ChatTurn } from '#shared/ports/chat-model.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import {
  DEFAULT_OUTPUT_RESERVATION_TOKENS,
  fitSources,
  planInput,
} from '#shared/usecases/answering/input-plan.ts';
import { renderSources } from '#shared/usecases/answering/prompt.ts';

const words = (n: number, tag: string) => `${tag} ${'solar sail '.repeat(n)}`.trim();
const base = {
  system: 'Answer from the sources.',
  question: 'Which mission demonstrated solar sailing?',
  history: [] as ChatTurn[],
  maxInputTokens: 2000,
  contextBudgetTokens: 4000,
  maxOutputTokens: 100,
  usesModel: true,
};

describe('planInput', () => {
  it('when the question alone is over the limit then a ValidationError names max_input_tokens', () => {
    expect(() => planInput({ ...base, question: words(3000, 'q') })).toThrow(ValidationError);
    expect(() => planInput({ ...base, question: words(3000, 'q') })).toThrow(/max_input_tokens/);
  });

  it('when the history is longer than the room left then the newest turns that fit are kept, in order', () => {
    const history: ChatTurn[] = [
      { role: 'user', content: words(400, 'oldest') },
      { role: 'assistant', content: words(400, 'old') },
      { role: 'user', content: words(300, 'recent') },
      { role: 'assistant', content: 'newest' },
    ];
    const plan = planInput({ ...base, history });
    expect(plan.history.map((t) => t.content.split(' ')[0])).toEqual(['recent', 'newest']);
    const historyTokens = plan.history.reduce((sum, t) => sum + countTokens(t.content), 0);
    expect(historyTokens + plan.sourceTokens + countTokens(base.system + base.question)).toBeLessThanOrEqual(
      base.maxInputTokens,
    );
  });

  it('when the limit is small then the sources get at most half of what is left after the question', () => {
    const plan = planInput(base);
    expect(plan.sourceTokens).toBeLessThan(base.maxInputTokens / 2);
    expect(planInput({ ...base, maxInputTokens: 100_000 }).sourceTokens).toBe(base.contextBudgetTokens);
  });

  it('when the bot sets no max_output_tokens then the reservation assumes the default output', () => {
    const bounded = planInput(base).reservedTokens;
    const unbounded = planInput({ ...base, maxOutputTokens: null }).reservedTokens;
    expect(unbounded - bounded).toBe(DEFAULT_OUTPUT_RESERVATION_TOKENS - base.maxOutputTokens);
  });

  it('when a language model answers a follow-up then the reservation also covers the rewrite call', () => {
    const history: ChatTurn[] = [{ role: 'user', content: 'What is a solar sail?' }];
    const withModel = planInput({ ...base, history }).reservedTokens;
    const extractive = planInput({ ...base, history, usesModel: false }).reservedTokens;
    expect(withModel - extractive).toBeGreaterThan(100); // the rewrite prompt + its 100 output tokens
  });
});

describe('fitSources', () => {
  it('when the rendered sources (titles included) are over the budget then the lowest-ranked are dropped', () => {
    const passages = [1, 2, 3].map((n) => ({
      n,
      sourceId: `s${n}`,
      title: `Title ${n}`,
      content: words(50, `p${n}`),
    }));
    const budget = countTokens(renderSources(passages.slice(0, 2)));
    const fitted = fitSources(passages, ['c1', 'c2', 'c3'], budget);
    expect(fitted.passages.map((p) => p.n)).toEqual([1, 2]);
    expect(fitted.citations).toEqual(['c1', 'c2']);
    expect(fitSources(passages, ['c1', 'c2', 'c3'], budget - 1).passages.map((p) => p.n)).toEqual([1]);
  });
});
