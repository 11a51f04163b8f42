import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_AWS_CREDENTIALS, type FakeBedrock, startFakeBedrock } from '#test/fakes/bedrock-server.ts';
import { createTenant, Http, readSse, settled } from './http-flow.ts';
import { newAdminToken, removeDir, type ServerProcess, startServer, tempDir } from './server-process.ts';

const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const REPLY = 'IKAROS was the first spacecraft to sail on sunlight [1].';

/**
 * `minirag serve` (what `npm start` runs) in its own process, configured only through its environment the
 * way a developer would: AWS credentials for the SDK's default chain, EMBEDDING_PROVIDER=bedrock, and the
 * Bedrock stand-in as the endpoint.
 */
describe('the local server with Amazon Bedrock', () => {
  let bedrock: FakeBedrock;
  let server: ServerProcess;
  let dataDir: string;
  const adminToken = newAdminToken();

  beforeAll(async () => {
    bedrock = await startFakeBedrock({ reply: REPLY });
    dataDir = await tempDir('minirag-bedrock-');
    server = await startServer({
      dataDir,
      adminToken,
      env: {
        AWS_ACCESS_KEY_ID: FAKE_AWS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_AWS_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: FAKE_AWS_CREDENTIALS.sessionToken,
        AWS_REGION: 'eu-west-1',
        BEDROCK_ENDPOINT_URL: bedrock.url,
        BEDROCK_AGENT_RUNTIME_ENDPOINT_URL: bedrock.url,
        EMBEDDING_PROVIDER: 'bedrock',
        EMBEDDING_MODEL: 'amazon.titan-embed-text-v2:0',
        EMBEDDING_DIMENSIONS: '256',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await bedrock?.close();
    if (dataDir) await removeDir(dataDir);
  });

  it('when a bedrock bot is asked then the streamed answer cites the source embedded with Titan V2', async () => {
    const http = new Http(server.url, await createTenant(server.url, adminToken, 'bedrock'));
    await http.post('/v1/sources', {
      title: 'Solar sails',
      type: 'markdown',
      content:
        'A solar sail is pushed by sunlight. IKAROS, launched in 2010, was the first to sail this way.',
    });
    await http.post('/v1/sources', {
      title: 'Bread',
      type: 'markdown',
      content: 'A sourdough starter is a culture of wild yeast and lactic acid bacteria.',
    });
    const sources = await settled(http, 2, 60_000);
    expect(sources.map((s) => s.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const embeds = bedrock.requests.filter((r) => r.endpoint === 'invoke');
    expect(embeds.length).toBeGreaterThanOrEqual(2);
    expect(
      embeds.every((r) => r.modelId === 'amazon.titan-embed-text-v2:0' && r.region === 'eu-west-1'),
    ).toBe(true);

    const bot = await http.post<{ id: string }>('/v1/bots', {
      name: 'sails',
      provider: 'bedrock',
      model: MODEL,
    });
    const chat = await http.post<{ id: string }>('/v1/chats', { bot_id: bot.id });
    const response = await fetch(`${server.url}/v1/chats/${chat.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${http.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Which spacecraft first sailed on sunlight?', stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = await readSse(response);
    const text = frames
      .filter((f) => f.event === 'delta')
      .map((f) => String(f.data.text))
      .join('');
    expect(text).toBe(REPLY);
    const solar = sources.find((s) => s.title === 'Solar sails')!;
    expect(JSON.stringify(frames.find((f) => f.event === 'citations')?.data)).toContain(solar.id);
    expect(frames.at(-1)?.event).toBe('done');
    const call = bedrock.requests.find((r) => r.endpoint === 'converse-stream');
    expect(call).toMatchObject({ modelId: MODEL, region: 'eu-west-1', status: 200 });
  });
});
