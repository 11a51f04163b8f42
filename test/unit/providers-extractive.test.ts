import { describe, expect, it } from 'vitest';
import { createExtractiveAnswerer, extractiveAnswer } from '#shared/adapters/extractive/chat-model.ts';
import type { ChatEvent, ChatRequest, ContextPassage } from '#shared/ports/chat-model.ts';

const passages: ContextPassage[] = [
  {
    n: 1,
    sourceId: 'shipping',
    title: 'Shipping',
    content:
      'Orders ship from Rotterdam. Delivery usually takes three working days. Shipping is free over 50 euros.',
  },
  {
    n: 2,
    sourceId: 'refunds',
    title: 'Refunds',
    content:
      'We like happy customers.\n\nRefunds are issued within 14 days after we receive the returned item. Store credit is instant.',
  },
];

const request = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  system: 'Answer from the context.',
  messages: [{ role: 'user', content: 'Context: ... Question: How long until my refund is issued?' }],
  question: 'How long until my refund is issued?',
  passages,
  ...overrides,
});

describe('extractive answerer', () => {
  it('when passages match the question then the best sentence is quoted first with its citation marker', () => {
    const answer = extractiveAnswer('How long until my refund is issued?', passages);
    const lines = answer.split('\n');
    expect(lines[0]).toMatch(/No LLM is configured for this bot/);
    expect(lines[2]).toBe('"Refunds are issued within 14 days after we receive the returned item." [2]');
    expect(answer).not.toContain('We like happy customers');
  });

  it('when a passage starts with a Markdown heading then the heading is not quoted as an answer', () => {
    const answer = extractiveAnswer('When does the night ferry leave?', [
      {
        n: 1,
        sourceId: 's',
        title: 'ferry.md',
        content: '# The night ferry\n\nThe night ferry leaves at 23:40 every Friday.',
      },
    ]);
    expect(answer).toContain('"The night ferry leaves at 23:40 every Friday." [1]');
    expect(answer).not.toContain('# The night ferry');
  });

  it('when the question shares no word with the passages then the top passage is still quoted', () => {
    const answer = extractiveAnswer('Qu’en est-il?', passages);
    expect(answer).toContain('"Orders ship from Rotterdam." [1]');
  });

  it('when there are no passages then it says nothing was found and that no LLM is configured', () => {
    const answer = extractiveAnswer('Anything?', []);
    expect(answer).toMatch(/No LLM is configured for this bot/);
    expect(answer).toMatch(/nothing in its knowledge base matches/);
    expect(answer).not.toMatch(/\[\d+\]/);
  });

  it('when asked twice then it answers the same way (deterministic)', () => {
    expect(extractiveAnswer('free shipping delivery', passages)).toBe(
      extractiveAnswer('free shipping delivery', passages),
    );
  });

  it('when streamed then word-sized deltas spell out the complete() answer and usage is counted', async () => {
    const answerer = createExtractiveAnswerer();
    expect({ provider: answerer.provider, model: answerer.model }).toEqual({
      provider: 'extractive',
      model: 'extractive-v1',
    });
    const events: ChatEvent[] = [];
    for await (const event of answerer.stream(request())) events.push(event);
    const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
    const completed = await answerer.complete(request());
    expect(deltas.join('')).toBe(completed.text);
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.every((d) => d.trim().split(/\s+/).length === 1)).toBe(true);
    expect(events.at(-1)).toEqual({
      type: 'usage',
      inputTokens: completed.inputTokens,
      outputTokens: completed.outputTokens,
    });
    expect(completed.inputTokens).toBeGreaterThan(0);
    expect(completed.outputTokens).toBeGreaterThan(10);
  });

  it('when the caller aborts then the stream stops with the abort reason', async () => {
    const controller = new AbortController();
    const iterator = createExtractiveAnswerer()
      .stream(request({ signal: controller.signal }))
      [Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
