import {
  AccessDeniedException,
  BedrockAgentRuntimeClient,
  RerankCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-agent-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBedrockReranker, rerankModelArn } from '#shared/adapters/bedrock/reranker.ts';
import { createCohereReranker } from '#shared/adapters/cohere/reranker.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import { FAKE_COHERE_API_KEY, type FakeCohere, startFakeCohere } from '#test/fakes/cohere-server.ts';

const DOCS = ['Sourdough needs a starter.', 'IKAROS demonstrated solar sailing in 2010.', 'Ion thrusters.'];

describe('Bedrock reranker (aws-sdk-client-mock)', () => {
  const client = new BedrockAgentRuntimeClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  afterEach(() => mock.reset());

  it('when asked then it sends inline text sources with the model ARN and returns the ranking best first', async () => {
    mock.on(RerankCommand).resolves({
      results: [
        { index: 1, relevanceScore: 0.9 },
        { index: 2, relevanceScore: 0.2 },
      ],
    });
    const reranker = createBedrockReranker({ client, model: 'amazon.rerank-v1:0', region: 'eu-west-1' });
    const result = await reranker.rerank('Which mission sailed on sunlight?', DOCS, { topN: 2 });
    expect(result).toEqual({
      ranking: [
        { index: 1, score: 0.9 },
        { index: 2, score: 0.2 },
      ],
      searchUnits: 1,
    });
    const input = mock.commandCalls(RerankCommand)[0]!.args[0].input;
    expect(input.queries).toEqual([
      { type: 'TEXT', textQuery: { text: 'Which mission sailed on sunlight?' } },
    ]);
    expect(input.sources?.[1]).toEqual({
      type: 'INLINE',
      inlineDocumentSource: { type: 'TEXT', textDocument: { text: DOCS[1] } },
    });
    expect(input.rerankingConfiguration).toEqual({
      type: 'BEDROCK_RERANKING_MODEL',
      bedrockRerankingConfiguration: {
        numberOfResults: 2,
        modelConfiguration: { modelArn: 'arn:aws:bedrock:eu-west-1::foundation-model/amazon.rerank-v1:0' },
      },
    });
  });

  it('when the model answers an index twice or out of range then those are dropped', async () => {
    mock.on(RerankCommand).resolves({
      results: [
        { index: 0, relevanceScore: 0.5 },
        { index: 0, relevanceScore: 0.4 },
        { index: 9, relevanceScore: 0.3 },
      ],
    });
    const reranker = createBedrockReranker({ client, model: 'cohere.rerank-v3-5:0', region: 'eu-west-1' });
    expect((await reranker.rerank('q', DOCS, { topN: 3 })).ranking).toEqual([{ index: 0, score: 0.5 }]);
  });

  it('when Bedrock throttles or denies access then retryable 429 / non-retryable 400 naming the model', async () => {
    const reranker = createBedrockReranker({ client, model: 'amazon.rerank-v1:0', region: 'eu-west-1' });
    mock
      .on(RerankCommand)
      .rejectsOnce(new ThrottlingException({ message: 'slow down', $metadata: {} }))
      .rejectsOnce(new AccessDeniedException({ message: 'no', $metadata: {} }));
    await expect(reranker.rerank('q', DOCS, { topN: 1 })).rejects.toMatchObject({
      status: 429,
      retryable: true,
    });
    const denied = await reranker.rerank('q', DOCS, { topN: 1 }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ProviderError);
    expect(denied).toMatchObject({ status: 400, retryable: false });
    expect((denied as Error).message).toMatch(/amazon\.rerank-v1:0.*enable model access/);
  });

  it('when given an ARN then it is used as is', () => {
    const arn = 'arn:aws:bedrock:us-west-2::foundation-model/cohere.rerank-v3-5:0';
    expect(rerankModelArn(arn, 'eu-west-1')).toBe(arn);
  });
});

describe('Cohere reranker (against the Cohere stand-in)', () => {
  let fake: FakeCohere;
  beforeAll(async () => {
    fake = await startFakeCohere({ echoKey: true });
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());
  const reranker = (apiKey = FAKE_COHERE_API_KEY) =>
    createCohereReranker({ apiKey, model: 'rerank-v3.5', baseURL: fake.url });

  it('when asked then it posts /v2/rerank with the key and returns the best top_n with billed search units', async () => {
    const result = await reranker().rerank('IKAROS solar sailing', DOCS, { topN: 2 });
    expect(result.ranking[0]?.index).toBe(1);
    expect(result.ranking).toHaveLength(2);
    expect(result.searchUnits).toBe(1);
    expect(fake.requests[0]?.body).toEqual({
      model: 'rerank-v3.5',
      query: 'IKAROS solar sailing',
      documents: DOCS,
      top_n: 2,
    });
  });

  it.each([
    [429, { status: 429, retryable: true, retryAfterSeconds: 7 }],
    [503, { status: 502, retryable: true }],
    [400, { status: 400, retryable: false }],
  ] as const)('when Cohere answers %i then %j, and the key is never quoted', async (status, expected) => {
    fake.script({ kind: 'error', status, retryAfter: 7 });
    const error = await reranker()
      .rerank('q', DOCS, { topN: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject(expected);
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain(FAKE_COHERE_API_KEY);
  });

  it("when the operator's key is refused then it is a non-retryable 502 that does not quote it", async () => {
    const wrong = 'WrongCohereKey0123456789abcdefghijklmnopq';
    const error = await reranker(wrong)
      .rerank('q', DOCS, { topN: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, retryable: false });
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(wrong);
  });
});
