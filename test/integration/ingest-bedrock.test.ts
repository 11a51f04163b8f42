import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectEmbedder } from '#shared/composition/embedder.ts';
import { loadConfig } from '#shared/config/load.ts';
import { FAKE_AWS_CREDENTIALS, type FakeBedrock, startFakeBedrock } from '#test/fakes/bedrock-server.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { getSourceJson, type IngestHarness, startIngestHarness } from '#test/fixtures/ingest.ts';
import { call } from '#test/fixtures/platform.ts';
import { createTestTenant } from '#test/fixtures/tenants.ts';

/** Enough paragraphs for ~120 chunks of 64 tokens: more than one Cohere request (96 texts). */
const LONG_DOC = Array.from(
  { length: 120 },
  (_, i) =>
    `Section ${i}. The probe number ${i} measured the solar wind at station ${i * 7}, reporting plasma density, magnetic field strength and particle speed for the mission log of day ${i}.`,
).join('\n\n');

const SOLAR = `A solar sail is propelled by the radiation pressure of sunlight. The IKAROS mission in 2010 was the first to demonstrate solar sailing in interplanetary space.`;

/**
 * The ingest pipeline with EMBEDDING_PROVIDER=bedrock, built by the same composition as `npm start`, against
 * the Bedrock stand-in: Titan Text Embeddings V2 (one text per request) and Cohere Embed (96 per request).
 */
describe.each(databaseKinds())('ingest with Bedrock embeddings on $name', (kind) => {
  let database: TestDatabase;
  let bedrock: FakeBedrock;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = FAKE_AWS_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_AWS_CREDENTIALS.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    bedrock = await startFakeBedrock();
    database = await kind.create();
  });
  afterAll(async () => {
    await database.dispose();
    await bedrock.close();
    process.env = saved;
  });

  async function harness(env: Record<string, string>): Promise<IngestHarness> {
    const config = loadConfig({ BEDROCK_ENDPOINT_URL: bedrock.url, EMBEDDING_PROVIDER: 'bedrock', ...env });
    const embedder = selectEmbedder(config, undefined);
    await database.vectorStore.ensureSpace(embedder.space);
    return startIngestHarness(database, {
      platform: { embedder, env: { BEDROCK_ENDPOINT_URL: bedrock.url } },
      chunking: { maxTokens: 64, overlapTokens: 8 },
    });
  }

  async function ingest(h: IngestHarness, token: string, title: string, content: string) {
    const res = await call(h.api, 'POST', '/v1/sources', { token, body: { title, type: 'text', content } });
    expect(res.status, res.text).toBe(202);
    await h.idle();
    const source = await getSourceJson(h, token, res.body.id);
    expect(source.status, source.error).toBe('COMPLETED');
    return source;
  }

  it('when EMBEDDING_MODEL is Titan V2 at 512 dimensions then every chunk is one normalized request and the chunks are searchable', async () => {
    const h = await harness({ EMBEDDING_MODEL: 'amazon.titan-embed-text-v2:0', EMBEDDING_DIMENSIONS: '512' });
    try {
      expect(h.platform.embedder.space).toEqual({
        provider: 'bedrock',
        model: 'amazon.titan-embed-text-v2:0',
        dimensions: 512,
      });
      const tenant = await createTestTenant(h.api, 'titan');
      bedrock.reset();
      const source = await ingest(h, tenant.apiToken, 'Solar wind log', LONG_DOC);
      const invokes = bedrock.requests.filter((r) => r.endpoint === 'invoke');
      expect(invokes.length).toBe(source.chunk_count);
      expect(invokes.every((r) => r.modelId === 'amazon.titan-embed-text-v2:0')).toBe(true);
      expect(invokes[0]?.body).toEqual({ inputText: expect.any(String), dimensions: 512, normalize: true });
      expect(await h.vectors(tenant.id, source.id)).toBe(source.chunk_count);
    } finally {
      await h.dispose();
    }
  });

  it('when EMBEDDING_MODEL is Cohere Embed v3 then chunks go 96 to a request as search_document', async () => {
    const h = await harness({ EMBEDDING_MODEL: 'cohere.embed-english-v3' });
    try {
      const tenant = await createTestTenant(h.api, 'cohere');
      bedrock.reset();
      const source = await ingest(h, tenant.apiToken, 'Solar wind log', LONG_DOC);
      expect(source.chunk_count).toBeGreaterThan(96);
      const invokes = bedrock.requests.filter((r) => r.endpoint === 'invoke');
      // The batching floor: ceil(n / 96) requests for n chunks.
      expect(invokes.length).toBe(Math.ceil(source.chunk_count / 96));
      expect(invokes.map((r) => (r.body!.texts as string[]).length)).toEqual([96, source.chunk_count - 96]);
      expect(invokes.every((r) => r.body?.input_type === 'search_document')).toBe(true);
      expect(await h.vectors(tenant.id, source.id)).toBe(source.chunk_count);
    } finally {
      await h.dispose();
    }
  });

  it('when a Cohere-embedded knowledge base is searched then the question is embedded as search_query and finds its passage', async () => {
    const h = await harness({ EMBEDDING_MODEL: 'cohere.embed-v4:0', EMBEDDING_DIMENSIONS: '1024' });
    try {
      const tenant = await createTestTenant(h.api, 'cohere-search');
      const solar = await ingest(h, tenant.apiToken, 'Solar sails', SOLAR);
      await ingest(h, tenant.apiToken, 'Solar wind log', LONG_DOC.slice(0, 2000));
      const bot = await call(h.api, 'POST', '/v1/bots', { token: tenant.apiToken, body: { name: 'quotes' } });
      const chat = await call(h.api, 'POST', '/v1/chats', {
        token: tenant.apiToken,
        body: { bot_id: bot.body.id },
      });
      bedrock.reset();
      const answer = await call(h.api, 'POST', `/v1/chats/${chat.body.id}/messages`, {
        token: tenant.apiToken,
        body: { content: 'Which mission first demonstrated solar sailing?' },
      });
      expect(answer.status, answer.text).toBe(200);
      const query = bedrock.requests.find((r) => r.endpoint === 'invoke');
      expect(query?.body).toMatchObject({
        texts: ['Which mission first demonstrated solar sailing?'],
        input_type: 'search_query',
        output_dimension: 1024,
      });
      expect(JSON.stringify(answer.body)).toContain(solar.id);
    } finally {
      await h.dispose();
    }
  });

  it('when the embedding model or dimension is not one Bedrock offers then start-up refuses it', () => {
    const config = (env: Record<string, string>) =>
      loadConfig({ EMBEDDING_PROVIDER: 'bedrock', BEDROCK_ENDPOINT_URL: bedrock.url, ...env });
    expect(() => selectEmbedder(config({ EMBEDDING_DIMENSIONS: '768' }), undefined)).toThrow(
      /256, 512, 1024/,
    );
    expect(() =>
      selectEmbedder(config({ EMBEDDING_MODEL: 'amazon.titan-embed-g1-text-02' }), undefined),
    ).toThrow(/not supported/);
  });
});
