import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createBedrockEmbedder } from '#shared/adapters/bedrock/embedder.ts';
import { ProviderError } from '#shared/domain/errors.ts';

const client = new BedrockRuntimeClient({ region: 'us-east-1' });
const mock = mockClient(client);
afterEach(() => mock.reset());

/** An InvokeModel output: the SDK's body is a Uint8Array that can also read itself as text. */
const reply = (body: object) => {
  const json = JSON.stringify(body);
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's blob adapter type is not exported by the client
  return { body: Object.assign(new Uint8Array(Buffer.from(json)), { transformToString: () => json }) as any };
};
const sentBody = (i: number) =>
  JSON.parse(String(mock.commandCalls(InvokeModelCommand)[i]!.args[0].input.body));

describe('Bedrock embedder (aws-sdk-client-mock)', () => {
  it('when Titan V2 embeds many texts then one request per text, never more than `concurrency` at once, in input order', async () => {
    let inFlight = 0;
    let most = 0;
    mock.on(InvokeModelCommand).callsFake(async (input: { body: string }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      const text = JSON.parse(input.body).inputText as string;
      return reply({ embedding: Array.from({ length: 256 }, () => text.length), inputTextTokenCount: 3 });
    });
    const embedder = createBedrockEmbedder({ client, region: 'us-east-1', dimensions: 256, concurrency: 4 });
    const texts = Array.from({ length: 20 }, (_, i) => 'x'.repeat(i + 1));
    const result = await embedder.embed(texts);
    expect(mock.commandCalls(InvokeModelCommand)).toHaveLength(20);
    expect(most).toBe(4);
    expect(result.vectors.map((v) => v[0])).toEqual(texts.map((t) => t.length));
    expect(result.inputTokens).toBe(60);
    expect(sentBody(0)).toMatchObject({ dimensions: 256, normalize: true });
    expect(mock.commandCalls(InvokeModelCommand)[0]!.args[0].input.modelId).toBe(
      'amazon.titan-embed-text-v2:0',
    );
  });

  it('when Cohere embeds then one request carries the texts with input_type by purpose, and more than 96 is refused', async () => {
    mock.on(InvokeModelCommand).callsFake(async (input: { body: string }) => {
      const texts = JSON.parse(input.body).texts as string[];
      return reply({ embeddings: { float: texts.map(() => new Array(1024).fill(0.5)) } });
    });
    const embedder = createBedrockEmbedder({
      client,
      region: 'us-east-1',
      model: 'cohere.embed-multilingual-v3',
    });
    expect(embedder.maxBatchSize).toBe(96);
    await embedder.embed(['a', 'b', 'c']);
    await embedder.embed(['question?'], { purpose: 'query' });
    expect(sentBody(0)).toEqual({
      texts: ['a', 'b', 'c'],
      input_type: 'search_document',
      truncate: 'END',
      embedding_types: ['float'],
    });
    expect(sentBody(1).input_type).toBe('search_query');
    await expect(embedder.embed(new Array(97).fill('t'))).rejects.toThrow(/At most 96/);
  });

  it('when Bedrock throttles then the error is a retryable 429 the batching retries on', async () => {
    mock
      .on(InvokeModelCommand)
      .rejects(new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } }));
    const embedder = createBedrockEmbedder({ client, region: 'us-east-1', model: 'cohere.embed-english-v3' });
    const error = await embedder.embed(['a']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, retryable: true });
  });

  it('when a vector of the wrong size comes back then it is refused before it reaches the store', async () => {
    mock.on(InvokeModelCommand).resolves(reply({ embedding: [1, 2, 3] }));
    const embedder = createBedrockEmbedder({ client, region: 'us-east-1' });
    await expect(embedder.embed(['a'])).rejects.toThrow(/3 dimensions .* expected 1024/);
  });
});
