import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '#shared/adapters/pglite/database.ts';
import { sql } from '#shared/db/sql.ts';
import { createTenant, Http, readSse, type SourceRow, settled } from './http-flow.ts';
import {
  newAdminToken,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
  waitFor,
} from './server-process.ts';
import { startSlowEmbeddings } from './slow-embeddings.ts';

const WORDS =
  'harbour lantern copper meadow orbit velvet glacier ember thistle quartz falcon willow cobalt saffron tundra prism'.split(
    ' ',
  );

/** A document of its own: several paragraphs (so several chunks) and a unique marker word. */
function document(n: number): string {
  const paragraphs = Array.from({ length: 60 }, (_, p) => {
    const words = Array.from({ length: 60 }, (_, w) => WORDS[(n * 7 + p * 3 + w * 5) % WORDS.length]);
    return `${words.join(' ')} marker${n}x${p}.`;
  });
  return `# Document ${n}\n\nThis is test document number ${n}, about the codeword zeta${n}.\n\n${paragraphs.join('\n\n')}\n`;
}

describe('the local server, run as `node bin/minirag.js serve`, over HTTP', () => {
  let dataDir: string;
  const adminToken = newAdminToken();
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir = await tempDir('minirag-e2e-');
    server = await startServer({ dataDir, adminToken });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await removeDir(dataDir);
  });

  it('when a tenant ingests a Markdown file and asks with stream: true, then the SSE answer cites that file and usage is recorded', async () => {
    const url = server!.url;
    const owner = new Http(url, await createTenant(url, adminToken, 'flow'));
    const minted = await owner.post<{ token: string }>('/v1/api-tokens', {
      name: 'e2e',
      scopes: ['read', 'chat', 'sources:write', 'bots:write'],
    });
    const http = new Http(url, minted.token);
    const bot = await http.post<{ id: string; provider: string | null }>('/v1/bots', { name: 'Extractive' });
    expect(bot.provider).toBeNull();

    const content =
      '# Lighthouse keeping\n\nThe lighthouse on Skerry Point is painted with red and white stripes. ' +
      'Its lamp is serviced every Tuesday by the keeper, who logs the oil level in a brass ledger.\n';
    const upload = await http.upload('lighthouse.md', content);
    expect(upload.status).toBe(202);
    const source = await waitFor(
      'the source to be COMPLETED',
      async () => {
        const s = await http.get<SourceRow>(`/v1/sources/${upload.body.id}`);
        if (s.status === 'FAILED') throw new Error(`ingestion failed: ${s.error}`);
        return s.status === 'COMPLETED' ? s : undefined;
      },
      20_000,
    );
    expect(source.chunk_count).toBeGreaterThan(0);

    const chat = await http.post<{ id: string }>('/v1/chats', { bot_id: bot.id });
    const response = await fetch(`${url}/v1/chats/${chat.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${minted.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'How often is the lighthouse lamp serviced?', stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = await readSse(response);
    const kinds = frames.map((f) => f.event);
    expect(kinds[0]).toBe('meta');
    expect(kinds).toContain('citations');
    expect(kinds).toContain('delta');
    expect(kinds).toContain('usage');
    expect(kinds.at(-1)).toBe('done');
    expect(kinds).not.toContain('error');
    expect(kinds.indexOf('citations')).toBeLessThan(kinds.indexOf('delta'));

    const citations = frames.find((f) => f.event === 'citations')!.data.citations as {
      n: number;
      source_id: string;
      title: string;
    }[];
    expect(citations.some((c) => c.source_id === source.id && c.title === 'lighthouse.md')).toBe(true);
    const text = frames
      .filter((f) => f.event === 'delta')
      .map((f) => f.data.text)
      .join('');
    expect(text).toContain('Tuesday');
    const done = frames.at(-1)!.data as { cited: number[]; status: string };
    expect(done.status).toBe('complete');
    const cited = citations.filter((c) => done.cited.includes(c.n));
    expect(cited.map((c) => c.source_id)).toContain(source.id);

    const usage = await http.get<{ data: { kind: string; events: number }[] }>('/v1/usage?group_by=day');
    const chatEvents = usage.data.filter((r) => r.kind === 'chat').reduce((n, r) => n + r.events, 0);
    expect(chatEvents).toBeGreaterThanOrEqual(1);
  });

  it('when the server is SIGKILLed in the middle of ingesting a folder of 30 files and restarted, then every source completes exactly once with no duplicate chunks', async () => {
    // Its own data dir, an embedding server that takes 150 ms a call and one source at a time (groups would
    // embed many sources in one call and finish them together): the kill lands mid-ingestion.
    const crashDir = await tempDir('minirag-e2e-crash-');
    const folder = await tempDir('minirag-e2e-folder-');
    const embeddings = await startSlowEmbeddings(150);
    const env = { ...embeddings.env, INGEST_CONCURRENCY: '1', INGEST_GROUP_SIZE: '1' };
    let crashing: ServerProcess | undefined;
    try {
      const files = Array.from({ length: 30 }, (_, i) => `doc-${String(i).padStart(2, '0')}.md`);
      for (const [i, name] of files.entries()) await writeFile(join(folder, name), document(i));
      crashing = await startServer({ dataDir: crashDir, adminToken, env });
      const http = new Http(crashing.url, await createTenant(crashing.url, adminToken, 'crash'));
      const upload = async (name: string) => http.upload(name, await readFile(join(folder, name), 'utf8'));

      const accepted = new Map<string, string>();
      for (const name of files) {
        const result = await upload(name);
        expect(result.status).toBe(202);
        accepted.set(name, result.body.id);
      }
      const before = await waitFor(
        'ingestion to be under way',
        async () => {
          const sources = await http.allSources();
          return sources.filter((s) => s.status === 'COMPLETED').length >= 3 ? sources : undefined;
        },
        20_000,
        20,
      );
      const port = crashing.port;
      expect((await crashing.stop('SIGKILL')).signal).toBe('SIGKILL');
      const unfinished = before.filter((s) => s.status !== 'COMPLETED');
      expect(unfinished.length, 'the kill should land before everything is ingested').toBeGreaterThan(10);

      crashing = await startServer({ dataDir: crashDir, adminToken, port, env });
      const started = Date.now();
      const after = await settled(http, files.length, 30_000);
      console.info(
        `after the restart, the remaining ${unfinished.length} sources completed in ${Date.now() - started} ms`,
      );
      expect(after).toHaveLength(files.length);
      expect(new Set(after.map((s) => s.id))).toEqual(new Set(accepted.values()));
      for (const s of after) {
        expect(s.status, `${s.title}: ${s.error}`).toBe('COMPLETED');
        expect(s.chunk_count).toBeGreaterThan(0);
      }

      // Sending the folder again stores nothing twice: every file is recognised as already ingested.
      for (const name of files) {
        const again = await upload(name);
        expect(again.status).toBe(409);
        expect(again.body.existing_source_id).toBe(accepted.get(name));
      }

      // SIGTERM: a graceful exit with code 0.
      expect((await crashing.stop('SIGTERM')).code).toBe(0);

      // With the server stopped, count what is really stored: exactly chunk_count chunks and vectors each.
      const db = await createPgliteDatabase({ dataDir: join(crashDir, 'pgdata') });
      try {
        const { chunks, vectors } = await db.withSystem(async (tx) => ({
          chunks: await tx.query<{ source_id: string; n: number; positions: number }>(
            sql`select source_id, count(*)::int as n, count(distinct (source_version, ordinal))::int as positions
                from chunks group by source_id`,
          ),
          vectors: await tx.query<{ source_id: string; n: number }>(
            sql`select source_id, count(*)::int as n from chunk_vectors group by source_id`,
          ),
        }));
        expect(chunks).toHaveLength(files.length);
        for (const s of after) {
          const c = chunks.find((r) => r.source_id === s.id);
          expect(c?.n, `chunks of ${s.title}`).toBe(s.chunk_count);
          expect(c?.positions, `distinct chunk positions of ${s.title}`).toBe(s.chunk_count);
          expect(vectors.find((r) => r.source_id === s.id)?.n, `vectors of ${s.title}`).toBe(s.chunk_count);
        }
      } finally {
        await db.close();
      }
    } finally {
      await crashing?.stop('SIGKILL');
      await embeddings.close();
      await removeDir(crashDir);
      await removeDir(folder);
    }
  }, 90_000);
});
