import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenAiEmbedder } from '#shared/adapters/openai/embedder.ts';
import { sql } from '#shared/db/sql.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import type { ScriptedBehaviour } from '#test/fakes/fake-behaviour.ts';
import { FAKE_OPENAI_API_KEY, type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import {
  expectConsistentSource,
  getSourceJson,
  type IngestHarness,
  startIngestHarness,
} from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { createTestTenant, type TestTenant } from '#test/fixtures/tenants.ts';

// embedInBatches backs off 0.5 s × 2^n between retries; the faults here would make that minutes. The
// wrapper keeps its retry logic and shortens only the waits (and records them), as its `sleep` option allows.
const waits = vi.hoisted(() => [] as number[]);
vi.mock('#shared/rag/embedding/embed-in-batches.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#shared/rag/embedding/embed-in-batches.ts')>();
  return {
    ...real,
    embedInBatches: (...[embedder, texts, options]: Parameters<typeof real.embedInBatches>) =>
      real.embedInBatches(embedder, texts, {
        ...options,
        maxRetries: 2,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5)));
        },
      }),
  };
});

const MAX_ATTEMPTS = 3;
const SOURCES = 20;
const FAILURE_RATIO = 0.3;

/** A repeatable mix: 30% of embedding requests fail, as a 429 (retry-after 0), a 500 or a hang. */
function faultScript(length: number, seed: number): ScriptedBehaviour<'chat' | 'embeddings'>[] {
  const random = seededRandom(seed);
  const failures = [
    { kind: 'rate-limited', retryAfter: 0 },
    { kind: 'server-error' },
    { kind: 'hang' },
  ] as const;
  return Array.from({ length }, () =>
    random() < FAILURE_RATIO
      ? { ...failures[Math.floor(random() * failures.length)]!, on: 'embeddings' as const }
      : { kind: 'ok' as const, on: 'embeddings' as const },
  );
}

const paragraph = (i: number, j: number) =>
  `Record ${i}.${j}: the valve assembly number ${i * 100 + j} was inspected, cleaned and resealed by crew ${j % 7}.`;

describe.each(databaseKinds())('ingestion under provider faults on $name', (kind) => {
  let database: TestDatabase;
  let fake: FakeOpenAi;
  let h: IngestHarness;
  let tenant: TestTenant;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    database = await kind.create();
    h = await startIngestHarness(database, {
      platform: {
        // The platform embedder is the real OpenAI adapter; a hung request times out after 300 ms.
        embedder: createOpenAiEmbedder({
          apiKey: FAKE_OPENAI_API_KEY,
          baseURL: fake.url,
          dimensions: 256,
          timeoutMs: 300,
        }),
        env: { INGEST_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
      },
      chunking: { maxTokens: 64, overlapTokens: 8 },
      // One source per claim: ungrouped, the 20 sources make enough requests to meet every kind of fault
      // (grouped requests under faults are covered by the SQS handler and embedding-group tests).
      worker: { concurrency: 3, groupSize: 1 },
      startWorker: false,
    });
    tenant = await createTestTenant(h.api, 'faults');
    // The local outbox ignores INGEST_MAX_ATTEMPTS (jobs get the column's default of 5, see the notes):
    // this database's default is set to it instead.
    expect(MAX_ATTEMPTS).toBe(3); // DDL takes no parameters: the literal below must match
    await h.platform.db.withSystem((tx) =>
      tx.query(sql`alter table jobs alter column max_attempts set default 3`),
    );
  });
  const jobs = () =>
    h.platform.db.withSystem((tx) =>
      tx.query<{ status: string; attempts: number }>(sql`select status, attempts from jobs`),
    );
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
    await fake.close();
  });

  it('when 30% of embedding calls fail then every source ends COMPLETED or FAILED with a reason, consistently', async () => {
    fake.reset();
    fake.script(...faultScript(400, 7));
    const ids: string[] = [];
    for (let i = 0; i < SOURCES; i++) {
      // 1 to 6 paragraphs: one or a few chunks each, so some sources need several batches' worth of luck.
      const content = Array.from({ length: 1 + (i % 6) }, (_, j) => paragraph(i, j)).join('\n\n');
      const res = await call(h.api, 'POST', '/v1/sources', {
        token: tenant.apiToken,
        body: { title: `maintenance log ${i}`, type: 'text', content },
      });
      expect(res.status, res.text).toBe(202);
      ids.push(res.body.id);
    }
    h.worker.start();
    await h.idle();

    const outcomes: Record<string, number> = {};
    for (const id of ids) {
      const source = await getSourceJson(h, tenant.apiToken, id);
      outcomes[source.status] = (outcomes[source.status] ?? 0) + 1;
      expect(['COMPLETED', 'FAILED'], JSON.stringify(source)).toContain(source.status);
      if (source.status === 'FAILED') {
        expect(source.error).toMatch(/OpenAI .+|did not respond/);
        expect(await h.vectors(tenant.id, id)).toBe(0);
      } else {
        expect(source.error).toBeNull();
        await expectConsistentSource(h, tenant.id, source);
      }
    }
    expect((outcomes.COMPLETED ?? 0) + (outcomes.FAILED ?? 0)).toBe(SOURCES);
    expect(outcomes.COMPLETED).toBeGreaterThan(SOURCES / 2); // retries rescue most of them
    // A final failure is recorded on the source and finishes the job: nothing is queued, running or dead.
    expect(await jobs()).toEqual([]);

    // The faults really happened, and were retried.
    const kinds = fake.requests.map((r) => r.behaviour);
    expect(kinds).toContain('rate-limited');
    expect(kinds).toContain('server-error');
    expect(kinds).toContain('hang');
    expect(
      fake.requests.filter((r) => r.behaviour === 'hang').every((r) => r.state === 'client-closed'),
    ).toBe(true);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.some((ms) => ms === 0)).toBe(true); // retry-after: 0 was honoured
  });

  it('when every call fails then the source is FAILED after INGEST_MAX_ATTEMPTS deliveries, with a reason', async () => {
    fake.reset();
    fake.setDefault({ kind: 'server-error' });
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: 'unlucky', type: 'text', content: paragraph(77, 1) },
    });
    await h.idle();
    const source = await getSourceJson(h, tenant.apiToken, res.body.id);
    expect(source).toMatchObject({
      status: 'FAILED',
      error: 'OpenAI is unavailable (500); try again later.',
    });
    expect(fake.requests.length).toBe(MAX_ATTEMPTS * 3); // each delivery: 1 call + maxRetries (2)
    expect(await h.vectors(tenant.id, source.id)).toBe(0);
    expect(await jobs()).toEqual([]);
    fake.setDefault({ kind: 'ok' });
  });

  it('when nothing fails then n chunks take exactly ceil(n / 128) embedding calls', async () => {
    fake.reset();
    const embedUsage = async () => {
      const [row] = await h.platform.db.withTenant(tenant.id, (tx) =>
        tx.query<{ n: number; tokens: number }>(sql`
          select count(*)::int as n, coalesce(sum(input_tokens), 0)::int as tokens from usage_events
          where kind = 'embed'`),
      );
      return row!;
    };
    const before = await embedUsage();
    const content = Array.from({ length: 1100 }, (_, j) => paragraph(9, j)).join(' ');
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: tenant.apiToken,
      body: { title: 'long log', type: 'text', content },
    });
    expect(res.status, res.text).toBe(202);
    await h.idle();
    const source = await getSourceJson(h, tenant.apiToken, res.body.id);
    expect(source.status).toBe('COMPLETED');
    const n = source.chunk_count as number;
    expect(n).toBeGreaterThan(256); // three batches at least: the split is really exercised

    const calls = fake.requests.filter((r) => r.endpoint === 'embeddings');
    expect(calls.length).toBe(Math.ceil(n / 128));
    const sizes = calls.map((r) => (r.body?.input as string[] | undefined)?.length ?? 0);
    expect(sizes.every((size) => size <= 128)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(n);
    expect(calls.every((r) => r.body?.dimensions === 256 && r.status === 200)).toBe(true);
    await expectConsistentSource(h, tenant.id, source);

    // One embed usage row for the source, billed as the provider reported it.
    const after = await embedUsage();
    expect(after.n - before.n).toBe(1);
    const reported = calls
      .flatMap((r) => r.body?.input as string[])
      .reduce((sum, t) => sum + countTokens(t), 0);
    expect(after.tokens - before.tokens).toBe(reported);
  });
});
