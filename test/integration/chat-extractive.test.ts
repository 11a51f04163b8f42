import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTHING_ON_THIS } from '#shared/adapters/extractive/chat-model.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import {
  type ChatHarness,
  dataOf,
  OTHER_DOC,
  parseSse,
  SOLAR_DOC,
  startChatHarness,
} from '#test/fixtures/sse.ts';

const ENGINES_DOC = `# Rocket engines

A rocket engine carries both its fuel and its oxidiser, so it works in the vacuum of space.
Liquid engines can be throttled and restarted. Solid motors are simpler but burn until the propellant is gone.
The thrust of an engine is the mass flow of its exhaust times the exhaust velocity.`;

interface Answer {
  readonly route: string;
  readonly text: string;
  readonly citations: { n: number; source_id: string }[];
  readonly usage?: Record<string, unknown>;
}

const IN_DOMAIN = [
  'Which mission demonstrated solar sailing?',
  'Which mission demonstrated solar sailing, and why does a rocket engine work in the vacuum of space?',
  'Why does a rocket engine work in space, and how is thrust computed?',
];
const OFF_TOPIC = ['What is the capital of France?', 'Who won the 2018 World Cup?'];

describe.each(databaseKinds())('extractive answers (no LLM) on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let botId: string;
  const documents = new Map<string, string>();

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
    const engines = await call(h.api, 'POST', '/v1/sources', {
      token: h.tenant.apiToken,
      body: { title: 'Engine notes', type: 'markdown', content: ENGINES_DOC },
    });
    expect(engines.status, engines.text).toBe(202);
    await h.idle();
    const sources = await call(h.api, 'GET', '/v1/sources', { token: h.tenant.apiToken });
    for (const s of sources.body.data as { id: string; title: string; status: string }[]) {
      expect(s.status).toBe('COMPLETED');
      const text = { 'Propulsion notes': SOLAR_DOC, 'Baking notes': OTHER_DOC, 'Engine notes': ENGINES_DOC }[
        s.title
      ];
      documents.set(s.id, text ?? '');
    }
    botId = await h.bot('extractive');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const post = (path: string, body: unknown) =>
    h.stream.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tenant.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** The same question through the native chat route and /v1/chat/completions, streamed and not. */
  async function answers(question: string): Promise<Answer[]> {
    const native = async (stream: boolean): Promise<Answer> => {
      const res = await post(`/v1/chats/${await h.chat(botId)}/messages`, { content: question, stream });
      expect(res.status).toBe(200);
      if (!stream) {
        const body = await res.json();
        return { route: 'native', text: body.content, citations: body.citations, usage: body.usage };
      }
      const events = parseSse(await res.text());
      const cited: number[] = dataOf(events, 'done')[0].cited;
      const listed: Answer['citations'] = dataOf(events, 'citations')[0].citations;
      // The stream lists what it may cite before the text; `done` says which it did.
      expect(listed.map((c) => c.n)).toEqual(cited);
      return {
        route: 'native, streamed',
        text: dataOf(events, 'delta')
          .map((d) => d.text)
          .join(''),
        citations: listed,
        usage: dataOf(events, 'usage')[0],
      };
    };
    const completions = async (stream: boolean): Promise<Answer> => {
      const res = await post('/v1/chat/completions', {
        model: botId,
        messages: [{ role: 'user', content: question }],
        stream,
      });
      expect(res.status).toBe(200);
      if (!stream) {
        const body = await res.json();
        return { route: 'completions', text: body.choices[0].message.content, citations: body.citations };
      }
      const chunks = parseSse(await res.text())
        .filter((e) => e.data !== '[DONE]')
        .map((e) => JSON.parse(e.data));
      return {
        route: 'completions, streamed',
        text: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
        citations: chunks.find((c) => c.citations)?.citations ?? [],
      };
    };
    return [await native(true), await native(false), await completions(true), await completions(false)];
  }

  it('when the question is off-topic, then every route answers that the knowledge base has nothing on it, with no citations', async () => {
    for (const question of OFF_TOPIC) {
      for (const answer of await answers(question)) {
        expect(answer.text, `${answer.route}: ${question}`).toBe(NOTHING_ON_THIS);
        expect(answer.citations, answer.route).toEqual([]);
      }
    }
  });

  it('when the question is in the documents, then quotes are whole sentences cited [1]…[k] in order of first use, each number in the list, on every route', async () => {
    let multiSource = false;
    for (const question of IN_DOMAIN) {
      const all = await answers(question);
      for (const answer of all) {
        const where = `${answer.route}: ${question}\n${answer.text}`;
        const quotes = [...answer.text.matchAll(/^"(.+)" \[(\d+)\]$/gm)].map((m) => ({
          sentence: m[1]!,
          n: Number(m[2]),
        }));
        expect(quotes.length, where).toBeGreaterThan(0);
        const used = [...new Set([...answer.text.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])))];
        expect(used, where).toEqual(used.map((_, i) => i + 1));
        expect(
          answer.citations.map((c) => c.n),
          where,
        ).toEqual(used);
        for (const { sentence, n } of quotes) {
          // A whole sentence (or a whole line), from the very source its number points at.
          expect(sentence, where).toMatch(/[.!?]$/);
          expect(documents.get(answer.citations[n - 1]!.source_id), where).toContain(sentence);
        }
        if (used.length > 1) multiSource = true;
      }
      // Every route carries the same answer and the same list.
      for (const answer of all.slice(1)) {
        expect(answer.text).toBe(all[0]!.text);
        expect(answer.citations).toEqual(all[0]!.citations);
      }
    }
    expect(multiSource, 'some answer quotes more than one source').toBe(true);
  });

  it('when an answer is extractive, then its usage says which provider wrote it, so clients can show "no model"', async () => {
    const [streamed, plain] = await answers(IN_DOMAIN[0]!);
    expect(streamed!.usage).toMatchObject({ provider: 'extractive', model: 'extractive-v1' });
    expect(plain!.usage).toMatchObject({ provider: 'extractive', model: 'extractive-v1' });
  });
});
