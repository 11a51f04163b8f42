import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { retrieveContext } from '#shared/usecases/answering/retrieve-context.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { getSourceJson } from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { type ChatHarness, dataOf, parseSse, SOLAR_DOC, startChatHarness } from '#test/fixtures/sse.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

/** Tenant A's exact question (A = the harness tenant, which holds the solar-sail notes). */
const QUESTION = 'Which mission demonstrated solar sailing?';
/** B's own notes share words with the question (mission, sailing), so B's retrieval finds something. */
const B_DOC = `# Sailing club

The club's first mission this season is a sailing race around the lighthouse.
Members who demonstrated safe sailing last year may skipper a boat.`;

describe.each(databaseKinds())('tenant isolation in retrieval on $name', (kind) => {
  let database: TestDatabase;
  let h: ChatHarness;
  let b: TestTenant;
  let bSource: string;

  beforeAll(async () => {
    database = await kind.create();
    h = await startChatHarness(database);
    b = await createTestTenant(h.api, 'tenant-b');
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: b.apiToken,
      body: { title: 'Club notes', type: 'markdown', content: B_DOC },
    });
    await h.idle();
    bSource = res.body.id;
    expect((await getSourceJson(h, b.apiToken, bSource)).status).toBe('COMPLETED');
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });

  const sourcesOf = async (tenantId: string) =>
    (
      await h.platform.db.withSystem((tx) =>
        tx.query<{ id: string }>(sql`select id from sources where tenant_id = ${tenantId}`),
      )
    ).map((r) => r.id);

  it.each(['hybrid', 'dense', 'lexical'] as const)(
    "when B retrieves for A's exact question (%s) then only B's chunks come back",
    async (mode) => {
      const forA = await retrieveContext(h.tenant.id, QUESTION, { topK: 8, mode }, h.platform);
      expect(forA.chunks.map((c) => c.sourceId)).toContain(h.solarSourceId); // the question is A's

      const forB = await retrieveContext(b.id, QUESTION, { topK: 8, mode }, h.platform);
      expect(forB.chunks.length).toBeGreaterThan(0);
      const bSources = await sourcesOf(b.id);
      for (const chunk of forB.chunks) {
        expect(bSources).toContain(chunk.sourceId);
        expect(chunk.content).not.toContain('IKAROS');
      }
      const owners = await h.platform.db.withSystem((tx) =>
        tx.query<{ tenant_id: string }>(
          sql`select distinct tenant_id from chunks where id = any(${forB.chunks.map((c) => c.id)}::uuid[])`,
        ),
      );
      expect(owners).toEqual([{ tenant_id: b.id }]);
    },
  );

  it.each(['extractive', 'openai'] as const)(
    "when B's %s bot is asked A's exact question then the answer never cites or sees A's source",
    async (botKind) => {
      const chatId = await h.chat(await h.bot(botKind, {}, b.apiToken), b.apiToken);
      const before = h.openai.requests.length;
      const res = await h.ask(chatId, QUESTION, { token: b.apiToken });
      const events = parseSse(await res.text());
      expect(events.at(-1)?.event).toBe('done');

      const [{ citations }] = dataOf(events, 'citations');
      expect(citations.length).toBeGreaterThan(0);
      for (const citation of citations) {
        expect(citation.source_id).toBe(bSource);
        expect(citation.snippet).not.toContain('IKAROS');
      }
      const text = dataOf(events, 'delta')
        .map((d) => d.text)
        .join('');
      expect(text).not.toContain('IKAROS');
      // What the provider was shown holds nothing of A's.
      for (const request of h.openai.requests.slice(before)) {
        expect(JSON.stringify(request.body)).not.toContain('IKAROS');
      }
      const saved = await call(h.api, 'GET', `/v1/chats/${chatId}`, { token: b.apiToken });
      expect(saved.text).not.toContain(h.solarSourceId);
      expect(saved.text).not.toContain(SOLAR_DOC.slice(20, 60));
    },
  );
});
