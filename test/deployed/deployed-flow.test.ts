import { gunzipSync } from 'node:zlib';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PLACEHOLDER } from '#shared/config/secrets.ts';
import { apiGatewayEvent } from '#test/fixtures/apigw-events.ts';
import { functionUrlEvent } from '#test/fixtures/lambda-stream.ts';
import { dataOf, parseSse } from '#test/fixtures/sse.ts';
import { InvocationFailed, pollQueue, viaApiGateway, viaStreamingFunctionUrl } from './event-sources.ts';
import type { FunctionInstance } from './function-instance.ts';
import { type LocalDeployment, startLocalDeployment } from './local-deployment.ts';

const SERVER = process.env.DATABASE_URL;
const DOC = `# Solar sails

Solar sails use the pressure of sunlight for propulsion. The IKAROS mission, launched by JAXA in 2010,
was the first spacecraft to demonstrate solar sailing in interplanetary space.`;

/**
 * The synthesized bundles, run as Lambda runs them (Node 22, the template's handler, memory, timeout and
 * environment), against the real PostgreSQL server and local stand-ins for Secrets Manager, KMS, SQS and
 * Qdrant — the whole path a first `cdk deploy` would take, and the ways it fails.
 */
describe.skipIf(!SERVER)(
  'the deployed artifacts (bundles from cdk synth, on Node 22)',
  { timeout: 180_000 },
  () => {
    let d: LocalDeployment;
    let api: FunctionInstance;
    let ingest: FunctionInstance;
    let chat: FunctionInstance;
    let adminToken: string;
    let sql: postgres.Sql;
    // Sources whose vectors the Qdrant stand-in refuses to store (an outage for just them).
    const unavailableFor = new Set<string>();

    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await viaApiGateway(api, apiGatewayEvent(method, path, { token, body }));
      const text = await res.text();
      return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
    };
    const drainQueue = async () => {
      const sqs = d.sqsClientAs('ingest');
      for (let i = 0; i < 20; i++) {
        const polled = await pollQueue(sqs, d.ingestMapping, ingest);
        if (polled.received === 0) return;
      }
    };

    beforeAll(async () => {
      d = await startLocalDeployment(SERVER!, {
        qdrant: {
          unavailable: (operationId, body) =>
            operationId === 'upsert_points' &&
            ((body as { points?: { payload?: { source_id?: string } }[] }).points ?? []).some((p) =>
              unavailableFor.has(String(p.payload?.source_id)),
            ),
        },
      });
      adminToken = d.standIns.secretsManager.get(
        d.standIns.secretArn(d.secretOf('api', 'ADMIN_TOKEN_SECRET_ARN')),
      )!;
      sql = postgres(d.databaseUrl, { max: 1, onnotice: () => {} });
    }, 600_000);
    afterAll(async () => {
      await sql?.end();
      await d?.dispose();
    });

    it('when the database secret still holds the placeholder then the api fails to start with an error naming the secret', async () => {
      const databaseSecret = d.standIns.secretArn(d.secretOf('api', 'DATABASE_SECRET_ARN'));
      expect(d.standIns.secretsManager.get(databaseSecret)).toBe(SECRET_PLACEHOLDER);
      try {
        const cold = await d.start('api');
        const failure = await viaApiGateway(cold, apiGatewayEvent('GET', '/healthz')).catch(
          (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(InvocationFailed);
        const { error } = failure as InvocationFailed;
        expect(error.phase).toBe('init');
        expect(error.errorMessage).toContain('DATABASE_SECRET_ARN');
        expect(error.errorMessage).toContain(databaseSecret);
        expect(error.errorMessage).toContain('placeholder');
        expect(cold.logs()).toContain(databaseSecret);
      } finally {
        // The operator fills it in (aws secretsmanager put-secret-value), as docs/deploy.md says.
        d.standIns.secretsManager.put(databaseSecret, d.databaseUrl);
      }
    });

    it('when the deploy trigger invokes migrate then every migration is applied', async () => {
      const migrate = await d.start('migrate');
      // The CDK trigger invokes the function with an empty payload.
      const outcome = await migrate.invoke({});
      expect(outcome.kind, JSON.stringify(outcome)).toBe('response');
      const result = (outcome as { payload: { status: string; applied: string[] } }).payload;
      expect(result.status).toBe('migrated');
      expect(result.applied.length).toBeGreaterThan(0);
      const [row] = await sql`select count(*)::int as n from schema_migrations`;
      expect(row!.n).toBe(result.applied.length);
    });

    let tenantToken: string;
    let sourceId: string;
    let botId: string;

    it('when the api creates a tenant, a bot and a source then the outbox sends the source to the queue and ingest completes it', async () => {
      api = await d.start('api');
      const health = await call('GET', '/healthz', '');
      expect(health.status).toBe(200);

      const tenant = await call('POST', '/v1/tenants', adminToken, {
        name: 'Deployed',
        slug: 'deployed',
        owner_email: 'owner@deployed.test',
        owner_password: 'owner password 0123',
      });
      expect(tenant.status, tenant.text).toBe(201);
      tenantToken = tenant.body.api_token.token;

      const bot = await call('POST', '/v1/bots', tenantToken, { name: 'docs' });
      expect(bot.status, bot.text).toBe(201);
      botId = bot.body.id;

      const source = await call('POST', '/v1/sources', tenantToken, {
        title: 'Solar sails',
        type: 'text',
        content: DOC,
      });
      expect(source.status, source.text).toBe(202);
      sourceId = source.body.id;

      // The api relayed its outbox row to the queue the template names, as the message the ingest app reads.
      const sent = d.standIns.sqs.calls.filter((c) => c.operation === 'SendMessageBatch');
      expect(sent).toHaveLength(1);
      expect(sent[0]!.input.QueueUrl).toBe(d.ingestMapping.queueUrl);
      const [entry] = sent[0]!.input.Entries as { MessageBody: string }[];
      expect(JSON.parse(entry!.MessageBody)).toMatchObject({ sourceId, version: 1 });

      ingest = await d.start('ingest');
      await drainQueue();
      const after = await call('GET', `/v1/sources/${sourceId}`, tenantToken);
      expect(after.body.status, after.text).toBe('COMPLETED');
    });

    it('when a browser opens /docs on the api then the page and its script come from the bundle, not a CDN', async () => {
      const page = await viaApiGateway(
        api,
        apiGatewayEvent('GET', '/docs', { headers: { accept: 'text/html' } }),
      );
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).not.toMatch(/https?:\/\//);
      const scriptUrl = /<script src="([^"]+)"/.exec(html)?.[1];
      expect(scriptUrl).toMatch(/^\/docs\/scalar\.[0-9a-f]+\.js$/);

      const script = await viaApiGateway(
        api,
        apiGatewayEvent('GET', scriptUrl!, { headers: { accept: '*/*', 'accept-encoding': 'gzip' } }),
      );
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(script.headers.get('content-encoding')).toBe('gzip');
      const text = gunzipSync(Buffer.from(await script.arrayBuffer())).toString('utf8');
      expect(text).toContain("Scalar.createApiReference('#app'");
      expect(text.length).toBeGreaterThan(1_000_000);
    });

    it('when the chat-stream function answers over its function URL then the answer streams with citations and usage is recorded', async () => {
      chat = await d.start('chat-stream');
      const created = await call('POST', '/v1/chats', tenantToken, { bot_id: botId, title: 'sails' });
      expect(created.status, created.text).toBe(201);
      const res = await viaStreamingFunctionUrl(
        chat,
        functionUrlEvent('POST', `/v1/chats/${created.body.id}/messages`, {
          token: tenantToken,
          body: { content: 'Which mission demonstrated solar sailing?', stream: true },
        }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = parseSse(await res.text());
      const names = events.map((e) => e.event);
      expect(names[0]).toBe('meta');
      expect(names.slice(-1)).toEqual(['done']);
      expect(dataOf(events, 'citations')[0].citations[0].source_id).toBe(sourceId);
      const answer = dataOf(events, 'delta')
        .map((e) => e.text)
        .join('');
      expect(answer).toContain('IKAROS');

      const usage = await call('GET', '/v1/usage', tenantToken);
      expect(usage.status, usage.text).toBe(200);
      const kinds = usage.body.data.map((r: { kind: string }) => r.kind);
      expect(kinds).toEqual(expect.arrayContaining(['embed']));
    });

    it('when a source fails on every delivery then after maxReceiveCount receives it is FAILED with a reason and its message is in the dead-letter queue', async () => {
      const [queueId, queue] = Object.entries(d.template.Resources).find(
        ([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties?.RedrivePolicy,
      )!;
      const { RedrivePolicy, VisibilityTimeout } = queue.Properties as {
        RedrivePolicy: { maxReceiveCount: number; deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } };
        VisibilityTimeout: number;
      };
      const dlqId = RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      const source = await call('POST', '/v1/sources', tenantToken, {
        title: 'Comets',
        type: 'text',
        content: 'Comets are icy bodies that release gas when they pass close to the Sun.',
      });
      expect(source.status, source.text).toBe(202);
      unavailableFor.add(source.body.id);
      const sqs = d.sqsClientAs('ingest');
      for (let delivery = 1; delivery <= RedrivePolicy.maxReceiveCount; delivery++) {
        expect(await pollQueue(sqs, d.ingestMapping, ingest)).toMatchObject({ received: 1, failed: 1 });
        const { body } = await call('GET', `/v1/sources/${source.body.id}`, tenantToken);
        expect(body.status).toBe(delivery < RedrivePolicy.maxReceiveCount ? 'PENDING' : 'FAILED');
        // The message comes back once its visibility timeout (from the template) has passed.
        expect(await pollQueue(sqs, d.ingestMapping, ingest)).toMatchObject({ received: 0 });
        d.standIns.sqs.advance(VisibilityTimeout + 1);
      }
      const failed = await call('GET', `/v1/sources/${source.body.id}`, tenantToken);
      expect(failed.body.error).toMatch(/\w+/);
      expect(failed.body.error).not.toMatch(/^Retrying/);
      // The next receive exceeds maxReceiveCount: SQS moves the message to the dead-letter queue.
      expect(await pollQueue(sqs, d.ingestMapping, ingest)).toMatchObject({ received: 0 });
      expect(d.standIns.sqs.messages(queueId)).toHaveLength(0);
      const dead = d.standIns.sqs.messages(dlqId);
      expect(dead).toHaveLength(1);
      expect(JSON.parse(dead[0]!.body)).toMatchObject({ sourceId: source.body.id });
    });

    it("when a bot's stored credentials carry another bot's encryption context then KMS refuses them and no answer starts", async () => {
      const withKey = (name: string) =>
        call('POST', '/v1/bots', tenantToken, {
          name,
          provider: 'openai',
          model: 'gpt-4o-mini',
          credentials: { api_key: `sk-deployed-${name}-0123456789` },
        });
      const a = await withKey('a');
      const b = await withKey('b');
      expect([a.status, b.status], a.text + b.text).toEqual([201, 201]);
      // Bot b's envelope copied onto bot a: every byte genuine, only the binding to a is wrong.
      await sql`update bot_profiles set credentials = (select credentials from bot_profiles where id = ${b.body.id}) where id = ${a.body.id}`;
      // Both bots hold sealed credentials (GenerateDataKey passed the key policy's context conditions).
      const rows =
        await sql`select credentials is not null as sealed from bot_profiles where id in (${a.body.id}, ${b.body.id})`;
      expect(rows.map((r) => r.sealed)).toEqual([true, true]);
      const created = await call('POST', '/v1/chats', tenantToken, { bot_id: a.body.id, title: 'tampered' });
      expect(created.status, created.text).toBe(201);
      const decryptsBefore = d.standIns.kms.calls.filter((c) => c.operation === 'Decrypt').length;
      const res = await viaStreamingFunctionUrl(
        chat,
        functionUrlEvent('POST', `/v1/chats/${created.body.id}/messages`, {
          token: tenantToken,
          body: { content: 'Which mission demonstrated solar sailing?', stream: true },
        }),
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await res.json()).detail).toMatch(/altered or belong to another bot/);
      const decrypts = d.standIns.kms.calls.filter((c) => c.operation === 'Decrypt').slice(decryptsBefore);
      expect(
        decrypts.map((c) => (c.input.EncryptionContext as { botProfileId: string }).botProfileId),
      ).toEqual([a.body.id]);
    });

    it('the stand-ins saw only requests the template allows', () => {
      expect(d.standIns.denials).toEqual([]);
      for (const s of [d.standIns.sqs, d.standIns.kms, d.standIns.secretsManager])
        expect(s.violations).toEqual([]);
      expect(d.standIns.qdrant.violations).toEqual([]);
    });

    it('no credential reaches a log line', () => {
      const logs = [api, ingest, chat].map((i) => i.logs()).join('\n');
      expect(logs.length).toBeGreaterThan(0);
      for (const secret of [
        adminToken,
        tenantToken,
        'sk-deployed-a-0123456789',
        'sk-deployed-b-0123456789',
      ]) {
        expect(logs).not.toContain(secret);
      }
    });
  },
);
