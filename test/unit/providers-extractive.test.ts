import { describe, expect, it } from 'vitest';
import {
  createExtractiveAnswerer,
  extractiveAnswer,
  NOTHING_ON_THIS,
} from '#shared/adapters/extractive/chat-model.ts';
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

/** Every quote of an answer: the quoted text and the marker after it. */
const quotesOf = (text: string) =>
  [...text.matchAll(/^"(.+)" \[(\d+)\]$/gm)].map((m) => ({ sentence: m[1]!, n: Number(m[2]) }));

describe('extractive answerer', () => {
  it('when passages match the question then the best sentence is quoted first, cited as [1]', () => {
    const answer = extractiveAnswer('How long until my refund is issued?', passages);
    const lines = answer.text.split('\n');
    expect(lines[0]).toMatch(/No LLM is configured for this bot/);
    expect(lines[2]).toBe('"Refunds are issued within 14 days after we receive the returned item." [1]');
    expect(answer.sources[0]).toBe(2);
    expect(answer.text).not.toContain('We like happy customers');
  });

  it('when quotes come from later passages then citations are renumbered from 1 in order of first use, without gaps', () => {
    const answer = extractiveAnswer('When are refunds issued and how long does delivery take?', [
      { n: 1, sourceId: 'a', title: 'About', content: 'We are a small family business from Utrecht.' },
      ...passages.map((p) => ({ ...p, n: p.n + 1 })),
    ]);
    const quotes = quotesOf(answer.text);
    expect(quotes.length).toBeGreaterThan(1);
    const used = [...new Set(quotes.map((q) => q.n))];
    expect(used).toEqual(used.map((_, i) => i + 1));
    expect(answer.sources).toHaveLength(used.length);
    expect(answer.sources).not.toContain(1);
    // Each number points at the passage the quote came from.
    for (const quote of quotes) {
      const passage = answer.sources[quote.n - 1]!;
      expect([passages[0]!, passages[1]!][passage - 2]!.content).toContain(quote.sentence);
    }
  });

  it('when a passage starts or ends inside a sentence then the cut sentences are never quoted', () => {
    const answer = extractiveAnswer('How are turbine blades cooled?', [
      {
        n: 1,
        sourceId: 's',
        title: 'turbines.md',
        content:
          'cooled by air bled from the compressor. Turbine blades are cooled by air flowing through internal channels. ' +
          'Film cooling protects the blade surface. The cooling air for the turbine blades then leaves through',
      },
    ]);
    const quotes = quotesOf(answer.text);
    expect(quotes.map((q) => q.sentence)).toEqual(
      expect.arrayContaining(['Turbine blades are cooled by air flowing through internal channels.']),
    );
    for (const { sentence } of quotes) {
      expect(sentence).toMatch(/[.!?]$/);
      expect(sentence).toMatch(/^[A-Z]/);
    }
  });

  it('when a paragraph is wrapped across lines then a sentence running over the break is quoted whole', () => {
    const wrapped: ContextPassage = {
      n: 1,
      sourceId: 'sails',
      title: 'Solar sails',
      content:
        '# Solar sails\n\nSolar sails use the pressure of sunlight for propulsion. The IKAROS mission, launched by JAXA in 2010,\nwas the first spacecraft to demonstrate solar sailing in interplanetary space.\n\n- IKAROS: 2010',
    };
    const answer = extractiveAnswer('Which mission demonstrated solar sailing?', [wrapped]);
    expect(quotesOf(answer.text)[0]).toEqual({
      sentence:
        'The IKAROS mission, launched by JAXA in 2010, was the first spacecraft to demonstrate solar sailing in interplanetary space.',
      n: 1,
    });
  });

  it('when the only matching sentence is very long then it is quoted whole, never clipped', () => {
    const long = `Turbine blades are cooled ${'by a long chain of carefully engineered passages, '.repeat(12)}and by air.`;
    const answer = extractiveAnswer('How are turbine blades cooled?', [
      { n: 1, sourceId: 's', title: 't', content: long },
    ]);
    expect(quotesOf(answer.text).map((q) => q.sentence)).toEqual([long]);
    expect(answer.text).not.toContain('…');
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
    expect(answer.text).toContain('"The night ferry leaves at 23:40 every Friday." [1]');
    expect(answer.text).not.toContain('# The night ferry');
  });

  it('when the question is off-topic then it says the knowledge base has nothing on it, with no quotes or citations', () => {
    for (const question of ['What is the capital of France?', 'Who won the 2018 World Cup?']) {
      const answer = extractiveAnswer(question, passages);
      expect(answer.text).toBe(NOTHING_ON_THIS);
      expect(answer.sources).toEqual([]);
      expect(answer.text).not.toMatch(/\[\d+\]|"/);
    }
  });

  it('when there are no passages then it says the knowledge base has nothing on this and that no LLM is configured', () => {
    const answer = extractiveAnswer('Anything?', []);
    expect(answer.text).toMatch(/No LLM is configured for this bot/);
    expect(answer.text).toMatch(/knowledge base has nothing on this question/);
    expect(answer.text).not.toMatch(/\[\d+\]/);
  });

  it('when asked twice then it answers the same way (deterministic)', () => {
    expect(extractiveAnswer('free shipping delivery', passages)).toEqual(
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
    // It knows its sources before it writes: they come first, as context numbers in order of first use.
    expect(events[0]).toEqual({ type: 'sources', passages: [2] });
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
