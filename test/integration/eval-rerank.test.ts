import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRerankOption } from '#cli/commands/eval.ts';
import { authenticate } from '#shared/auth/authenticate.ts';
import { rerankerFactory } from '#shared/composition/reranker.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { BeirDataset } from '#shared/eval/beir-dataset.ts';
import { evaluateRetrieval, rerankRun, STANDARD_RUNS } from '#shared/usecases/evaluate-retrieval.ts';
import { FAKE_COHERE_API_KEY, type FakeCohere, startFakeCohere } from '#test/fakes/cohere-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type IngestHarness, startIngestHarness } from '#test/fixtures/ingest.ts';
import { createTestTenant } from '#test/fixtures/tenants.ts';

const dataset: BeirDataset = {
  name: 'tiny',
  split: 'test',
  corpus: [
    { id: 'd1', title: 'Sails', text: 'A solar sail is pushed by sunlight; IKAROS flew one in 2010.' },
    { id: 'd2', title: 'Bread', text: 'A sourdough starter holds wild yeast and lactic acid bacteria.' },
    { id: 'd3', title: 'Ions', text: 'An ion thruster accelerates charged particles with electricity.' },
  ],
  queries: [
    { id: 'q1', text: 'Which spacecraft used a solar sail?' },
    { id: 'q2', text: 'What lives in a sourdough starter?' },
  ],
  qrels: new Map([
    ['q1', new Map([['d1', 1]])],
    ['q2', new Map([['d2', 1]])],
  ]),
};

describe.each(databaseKinds())('minirag eval --rerank on $name', (kind) => {
  let database: TestDatabase;
  let h: IngestHarness;
  let cohere: FakeCohere;
  beforeAll(async () => {
    cohere = await startFakeCohere();
    database = await kind.create();
    h = await startIngestHarness(database);
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
    await cohere.close();
  });

  it('when --rerank names a model then a reranked hybrid run is scored, one rerank call per query', async () => {
    const tenant = await createTestTenant(h.api, 'eval');
    const principal = await authenticate(tenant.apiToken, { db: h.platform.db, ...h.platform.secrets });
    if (principal.kind !== 'tenant') throw new Error('no tenant');
    const config = loadConfig({ COHERE_BASE_URL: cohere.url });
    const report = await evaluateRetrieval(
      principal.auth,
      dataset,
      { runs: [...STANDARD_RUNS, rerankRun(parseRerankOption('cohere:rerank-v3.5'))] },
      {
        ...h.platform,
        embeddingSpace: h.platform.embedder.space,
        waitForIngest: () => h.idle(),
        rerankerFor: rerankerFactory(config, FAKE_COHERE_API_KEY),
      },
    );
    const reranked = report.runs.at(-1)!;
    expect(reranked.run.label).toBe('hybrid + rerank (cohere/rerank-v3.5)');
    expect(cohere.requests).toHaveLength(2);
    expect(cohere.requests.map((r) => r.body?.query)).toEqual(dataset.queries.map((q) => q.text));
    expect(reranked.ndcgAt10).toBe(1);
  });

  it('when --rerank is malformed then it says what it takes', () => {
    expect(() => parseRerankOption('amazon.rerank-v1:0')).toThrow(/<provider>:<model>/);
    expect(parseRerankOption('bedrock:amazon.rerank-v1:0')).toEqual({
      provider: 'bedrock',
      model: 'amazon.rerank-v1:0',
    });
  });
});
