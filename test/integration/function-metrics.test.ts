import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIngestApp } from '#functions/ingest/app.ts';
import { createEmfMetrics, createLoggedMetrics } from '#shared/adapters/powertools/metrics.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { sqsEvent, sqsRecord } from '#test/fixtures/ingest.ts';
import { call, captureLogger } from '#test/fixtures/platform.ts';
import { type ChatHarness, startChatHarness } from '#test/fixtures/sse.ts';

interface EmfDocument {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** The EMF documents written to stdout while `run` ran (Powertools writes them with console.log). */
async function emfLinesOf(run: () => Promise<unknown>): Promise<{ docs: EmfDocument[]; raw: string }> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  const raw = written.join('');
  const docs = raw
    .split('\n')
    .filter((line) => line.includes('"CloudWatchMetrics"'))
    .map((line) => JSON.parse(line) as EmfDocument);
  return { docs, raw };
}

const metricNames = (docs: readonly EmfDocument[]) =>
  docs.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)));

describe('the functions emit CloudWatch metrics (EMF)', () => {
  let h: ChatHarness;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await databaseKinds()[0]!.create();
    h = await startChatHarness(database, {
      platform: {
        metrics: createEmfMetrics({ namespace: 'MiniRAG', serviceName: 'minirag-test', stage: 'test' }),
      },
    });
  });
  afterAll(async () => {
    await h.dispose();
    await database.dispose();
  });
  afterEach(() => vi.restoreAllMocks());

  it('when the chat function answers then one EMF document carries latency, tokens and candidates by service and stage, never the tenant', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    const { docs, raw } = await emfLinesOf(async () => {
      const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
      expect(res.status).toBe(200);
      await res.text();
    });
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc!._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'MiniRAG',
      Dimensions: [['service', 'stage']],
    });
    expect(doc).toMatchObject({ service: 'minirag-test', stage: 'test' });
    expect(new Set(metricNames(docs))).toEqual(
      new Set([
        'AnswerFirstTokenLatency',
        'AnswerInputTokens',
        'AnswerOutputTokens',
        'RetrievalCandidates',
        'AnswerLatency',
      ]),
    );
    expect(doc!.AnswerLatency as number).toBeGreaterThanOrEqual(doc!.AnswerFirstTokenLatency as number);
    expect(doc!.RetrievalCandidates).toBeGreaterThan(0);
    expect(raw).not.toContain(h.tenant.id);
  });

  it('when a chat request logs then every line carries its request id, tenant id and message id', async () => {
    const chatId = await h.chat(await h.bot('openai'));
    const before = h.platform.logger.lines.length;
    await emfLinesOf(async () => {
      const res = await h.ask(chatId, 'Which mission demonstrated solar sailing?');
      await res.text();
    });
    const lines = h.platform.logger.lines.slice(before).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line, line.message).toMatchObject({ tenantId: h.tenant.id, requestId: expect.any(String) });
      expect(line.messageId, line.message).toEqual(expect.any(String));
    }
  });

  it('when an answer is refused before the first byte then AnswerErrors is counted with the kind as a dimension', async () => {
    const { docs } = await emfLinesOf(async () => {
      const res = await h.ask(crypto.randomUUID(), 'Anyone there?');
      expect(res.status).toBe(404);
    });
    expect(docs).toHaveLength(1);
    expect(docs[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'stage', 'kind']]);
    expect(docs[0]).toMatchObject({ AnswerErrors: 1, kind: 'not-found' });
  });

  it('when the ingest function handles a batch then it publishes sources, chunks, embedding calls and tokens, and duration', async () => {
    const res = await call(h.api, 'POST', '/v1/sources', {
      token: h.tenant.apiToken,
      body: { title: 'Pumps', type: 'text', content: 'A pump moves fluid; its seal keeps the fluid in.' },
    });
    expect(res.status, res.text).toBe(202);
    const handle = createIngestApp({ ...h.ingestDeps, metrics: h.platform.metrics, maxAttempts: 3 });
    const body = JSON.stringify({ tenantId: h.tenant.id, sourceId: res.body.id, version: 1 });
    const { docs, raw } = await emfLinesOf(() => handle(sqsEvent(sqsRecord(body))));
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      SourcesCompleted: 1,
      ChunksStored: 1,
      EmbeddingCalls: 1,
      service: 'minirag-test',
    });
    // The offline embedder bills no tokens; the metric is there, with what the usage event records.
    expect(docs[0]!.EmbeddingTokens).toBe(0);
    expect(docs[0]!.IngestDuration).toBeGreaterThan(0);
    expect(raw).not.toContain(h.tenant.id);
  });
});

describe('locally the same metrics go to the log at DEBUG', () => {
  it('when a metric is added then one DEBUG line names it, with its unit and value', () => {
    const logger = captureLogger();
    const metrics = createLoggedMetrics(logger);
    metrics.add('AnswerErrors', 'Count', 1, { kind: 'quota-exceeded' });
    metrics.publish();
    expect(logger.lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: 'debug',
        message: 'metric',
        metric: 'AnswerErrors',
        unit: 'Count',
        value: 1,
        dimensions: { kind: 'quota-exceeded' },
      },
    ]);
  });
});
