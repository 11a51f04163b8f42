import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { createChatStreamApp } from '#functions/chat-stream/app.ts';
import { createJobWorker } from '#shared/adapters/local-queue/job-worker.ts';
import { sql } from '#shared/db/sql.ts';
import { ingestSource } from '#shared/usecases/ingest-source.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { call, TEST_ADMIN_TOKEN, testPlatform } from '#test/fixtures/platform.ts';

const DOC = `# Solar sails

A solar sail is propelled by the radiation pressure of sunlight on a large, thin mirror.
The IKAROS mission in 2010 was the first spacecraft to demonstrate solar sailing in interplanetary space.

# Ion thrusters

An ion thruster accelerates ions with electricity; it is efficient but produces very little thrust.`;

describe.each(databaseKinds())('ingest then chat on $name', (kind) => {
  let database: TestDatabase;
  let platform: ReturnType<typeof testPlatform>;
  let api: ReturnType<typeof createApiApp>;
  let stream: ReturnType<typeof createChatStreamApp>;
  let worker: ReturnType<typeof createJobWorker>;

  beforeAll(async () => {
    database = await kind.create();
    platform = testPlatform(database);
    api = createApiApp(platform);
    stream = createChatStreamApp(platform);
    worker = createJobWorker({
      db: platform.db,
      logger: platform.logger,
      pollMs: 50,
      handle: async (job) => {
        await ingestSource(
          job.payload,
          { number: job.attempts, isLast: job.attempts >= job.maxAttempts },
          {
            ...platform,
            chunking: { maxTokens: 512, overlapTokens: 64 },
            maxSourceBytes: 1_000_000,
          },
        );
      },
    });
    platform.ingestQueue.connect(() => worker.wake());
    worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await database.dispose();
  });

  it('when a markdown source is ingested then a streamed answer cites it', async () => {
    const tenant = await call(api, 'POST', '/v1/tenants', {
      token: TEST_ADMIN_TOKEN,
      body: { name: `Space ${kind.name}`, owner_email: 'o@space.test' },
    });
    const token = tenant.body.api_token.token as string;
    const source = await call(api, 'POST', '/v1/sources', {
      token,
      body: { title: 'Propulsion notes', type: 'markdown', content: DOC, tags: ['space'] },
    });
    expect(source.status).toBe(202);
    await worker.idle();
    const done = await call(api, 'GET', `/v1/sources/${source.body.id}`, { token });
    expect(done.body).toMatchObject({ status: 'COMPLETED', error: null });
    expect(done.body.chunk_count).toBeGreaterThan(0);

    const bot = await call(api, 'POST', '/v1/bots', { token, body: { name: 'Helper' } });
    const chat = await call(api, 'POST', '/v1/chats', { token, body: { bot_id: bot.body.id } });
    const res = await stream.request(`/v1/chats/${chat.body.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Which mission demonstrated solar sailing?', stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe('meta');
    expect(events[1]).toBe('citations');
    expect(events).toContain('delta');
    expect(events.slice(-2)).toEqual(['usage', 'done']);
    expect(text).toContain('IKAROS');

    const saved = await call(api, 'GET', `/v1/chats/${chat.body.id}`, { token });
    expect(saved.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(saved.body.messages[1].citations[0].source_id).toBe(source.body.id);
  });

  it('when a long section is cut into several chunks, then each keeps the source title and the heading it starts under', async () => {
    const tenant = await call(api, 'POST', '/v1/tenants', {
      token: TEST_ADMIN_TOKEN,
      body: { name: `Sections ${kind.name}`, owner_email: 'o@sections.test' },
    });
    const token = tenant.body.api_token.token as string;
    const sentences = (topic: string, n: number) =>
      Array.from({ length: n }, (_, i) => `Paragraph ${i} says more about ${topic} and its trade-offs.`).join(
        '\n\n',
      );
    const content = `Opening words.\n\n# Solar sails\n\n${sentences('sails', 60)}\n\n## Ion thrusters\n\n${sentences('ions', 120)}`;
    const source = await call(api, 'POST', '/v1/sources', {
      token,
      body: { title: 'Propulsion handbook', type: 'markdown', content },
    });
    expect(source.status).toBe(202);
    await worker.idle();
    const rows = await database.superuser.withSystem((tx) =>
      tx.query<{ content: string; source_title: string; section_heading: string }>(
        sql`select content, source_title, section_heading from chunks where source_id = ${source.body.id} order by ordinal`,
      ),
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(new Set(rows.map((r) => r.source_title))).toEqual(new Set(['Propulsion handbook']));
    expect(rows[0]!.section_heading).toBe('');
    expect(rows.at(-1)!.section_heading).toBe('Ion thrusters');
    // A chunk in the middle of the long section does not contain its heading line, but carries it.
    const inside = rows.filter((r) => r.content.includes('about ions') && !r.content.includes('# Ion'));
    expect(inside.length).toBeGreaterThan(0);
    for (const r of inside) expect(r.section_heading).toBe('Ion thrusters');
  });
});
