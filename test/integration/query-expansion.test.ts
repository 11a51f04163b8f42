import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

/** The two best full-text matches for "shock" share "oblique", which a third text has without "shock". */
const SHOCK_NOTES = [
  ['Wedge notes', 'shock waves are oblique at the wedge, oblique and attached'],
  ['Ramp notes', 'an oblique shock forms ahead of the ramp, oblique again'],
  ['Inlet notes', 'oblique waves reflect from the wall of the inlet'],
] as const;
const EXPANSION_ONLY = 'oblique waves reflect';

interface Candidate {
  chunk_id: string;
  snippet: string | null;
  lexical: { rank: number } | null;
}

describe.each(databaseKinds())('query expansion, a bot retrieval setting, on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let other: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
    other = await createTestTenant(h.api, 'expansion-b');
    const add = async (token: string, title: string, content: string) => {
      const res = await call(h.api, 'POST', '/v1/sources', {
        token,
        body: { title, type: 'markdown', content },
      });
      expect(res.status, res.text).toBe(202);
    };
    for (const [title, content] of SHOCK_NOTES) await add(h.tenant.apiToken, title, content);
    // Another tenant's text that the expanded question would match: it must never be a candidate.
    await add(other.apiToken, 'Foreign notes', 'oblique waves and oblique shocks in a foreign diffuser');
    await h.idle();
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  /** Asks "shock" in a new chat of the bot and returns the answer's full-text candidates. */
  async function lexicalCandidates(botId: string): Promise<Candidate[]> {
    const chatId = await h.chat(botId);
    const res = await h.ask(chatId, 'shock');
    expect(res.status).toBe(200);
    const [done] = dataOf(parseSse(await res.text()), 'done');
    const trace = await call(h.api, 'GET', `/v1/chats/${chatId}/messages/${done.message_id}/trace`, {
      token: h.tenant.apiToken,
    });
    expect(trace.status, trace.text).toBe(200);
    return (trace.body.candidates as Candidate[]).filter((c) => c.lexical !== null);
  }

  it('when a bot is created then query expansion is off, and a change to it keeps the other retrieval settings', async () => {
    const created = await call(h.api, 'POST', '/v1/bots', {
      token: h.tenant.apiToken,
      body: { name: 'Expanding', retrieval: { top_k: 4, tags: ['docs'] } },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.retrieval).toMatchObject({ top_k: 4, tags: ['docs'], query_expansion: false });
    const changed = await call(h.api, 'PATCH', `/v1/bots/${created.body.id}`, {
      token: h.tenant.apiToken,
      body: { retrieval: { query_expansion: true } },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.retrieval).toMatchObject({ top_k: 4, tags: ['docs'], query_expansion: true });
    const refused = await call(h.api, 'PATCH', `/v1/bots/${created.body.id}`, {
      token: h.tenant.apiToken,
      body: { retrieval: { query_expansion: 'yes' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when a bot asks for query expansion then a text sharing its best matches’ words is a full-text candidate, and only for that bot and tenant', async () => {
    const plain = await lexicalCandidates(await h.bot('extractive'));
    const expanded = await lexicalCandidates(
      await h.bot('extractive', { retrieval: { query_expansion: true } }),
    );
    const has = (candidates: Candidate[], text: string) => candidates.some((c) => c.snippet?.includes(text));
    expect(has(plain, 'oblique shock forms')).toBe(true);
    expect(has(plain, EXPANSION_ONLY)).toBe(false);
    expect(has(expanded, EXPANSION_ONLY)).toBe(true);
    for (const candidates of [plain, expanded]) expect(has(candidates, 'foreign diffuser')).toBe(false);
  });
});
