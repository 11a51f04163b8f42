import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ingestEphemeralStorageMb, MAX_RECEIVE_COUNT } from '#infra/constructs/ingest.ts';
import { estimateCost } from '#infra/cost/estimate.ts';
import {
  expectCommonEnvironment,
  expectLeastPrivilegeIdentityPolicies,
  expectNagClean,
  functionProps,
  keyPolicyGrants,
  secretsReadBy,
  stackFunctions,
} from './stack-assertions.ts';
import { synthesize } from './synth.ts';

const s = synthesize({
  stage: 'test',
  databaseMode: 'aurora',
  qdrantUrl: 'https://qdrant.example.com',
  corsOrigins: 'https://app.example.com',
  alarmEmail: 'ops@example.com',
  monitoring: 'true',
});
const { stack, template } = s;
const fns = stackFunctions(stack);

describe('MiniRAG stack in aurora mode', () => {
  it('when synthesized with AwsSolutions checks then there is no unacknowledged finding and no error', () => {
    expectNagClean(s);
  });

  it('when the chat-stream URL is created then it streams responses, auth NONE, and leaves CORS to the app', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      InvokeMode: 'RESPONSE_STREAM',
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [s.logicalId(fns.chat.function), 'Arn'] },
      // A static CORS list here would answer preflights itself and hide the per-key origins of /v1/public.
      Cors: Match.absent(),
    });
    expect(functionProps(s, fns.chat).Timeout).toBeGreaterThan(functionProps(s, fns.api).Timeout as number);
  });

  it('when CORS origins are configured then neither API Gateway nor the function URL answers CORS: both apps get the origins', () => {
    for (const api of Object.values(template.findResources('AWS::ApiGatewayV2::Api'))) {
      expect(api.Properties.CorsConfiguration).toBeUndefined();
    }
    for (const url of Object.values(template.findResources('AWS::Lambda::Url'))) {
      expect(url.Properties.Cors).toBeUndefined();
    }
    for (const fn of [fns.api, fns.chat]) {
      expect(functionProps(s, fn).Environment.Variables.CORS_ORIGINS).toBe('https://app.example.com');
    }
  });

  it('when the ingest queue feeds the function then failures are reported per item, in small bounded batches', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: s.logicalId(fns.ingest.function) },
      EventSourceArn: { 'Fn::GetAtt': [s.logicalId(stack.ingest.queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('when a message keeps failing then it is redriven to the encrypted DLQ after maxReceiveCount deliveries', () => {
    const queue = template.toJSON().Resources[s.logicalId(stack.ingest.queue)].Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [s.logicalId(stack.ingest.deadLetterQueue), 'Arn'] },
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    expect(functionProps(s, fns.ingest).Environment.Variables.INGEST_MAX_ATTEMPTS).toBe(
      String(MAX_RECEIVE_COUNT),
    );
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it("when a batch of the largest uploads is ingested then its originals fit /tmp and the size limit is the api's", () => {
    const ingest = functionProps(s, fns.ingest);
    const api = functionProps(s, fns.api);
    expect(ingest.Environment.Variables.MAX_UPLOAD_BYTES).toBe(api.Environment.Variables.MAX_UPLOAD_BYTES);
    // 10 sources of up to 100 MiB each (the defaults), plus room for the runtime.
    expect(ingest.EphemeralStorage).toEqual({ Size: 10 * 100 + 64 });
    expect(ingestEphemeralStorageMb(1, 1024 * 1024)).toBe(512);
    expect(ingestEphemeralStorageMb(100, 2_000_000_000)).toBe(10_240);
  });

  it('when the visibility timeout is set then it is at least six times the ingest function timeout', () => {
    const queue = template.toJSON().Resources[s.logicalId(stack.ingest.queue)].Properties;
    const timeout = functionProps(s, fns.ingest).Timeout as number;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('when the DLQ has messages then an alarm notifies the alarm topic, which the alarm e-mail subscribes to', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [s.logicalId(stack.ingest.deadLetterQueue), 'QueueName'] },
        },
      ],
      AlarmActions: [{ Ref: s.logicalId(stack.observability!.alarmTopic) }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    // errors + throttles for four functions, plus the DLQ depth
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('when the outbox sweep is scheduled then it invokes the ingest function with the sweep event', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ source: 'minirag.sweep' }) })],
    });
  });

  it('when the KMS key is created then it rotates, and only the functions that open bot credentials may use it', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const grants = keyPolicyGrants(s);
    expect(grants.get(s.logicalId(fns.api.function.role!))).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(grants.get(s.logicalId(fns.chat.function.role!))).toEqual(['kms:Decrypt']);
    // Ingest embeds with the platform key and never decrypts a bot's credentials.
    expect(grants.has(s.logicalId(fns.ingest.function.role!))).toBe(false);
    expect(grants.has(s.logicalId(fns.migrate.function.role!))).toBe(false);
  });

  it('when any IAM policy is walked then no action and no resource is a wildcard', () => {
    expectLeastPrivilegeIdentityPolicies(s);
  });

  it('when secrets are granted then each function reads exactly the secrets it needs', () => {
    const db = s.resolve(stack.database.secret.secretArn);
    const sec = stack.secrets;
    const ref = (secret: { secretArn: string } | undefined) => s.resolve(secret!.secretArn);
    expect(secretsReadBy(s, fns.api)).toEqual(
      new Set(
        [db, ref(sec.jwtSigningKey), ref(sec.adminToken), ref(sec.qdrantApiKey), ref(sec.openaiApiKey)].map(
          (v) => JSON.stringify(v),
        ),
      ),
    );
    expect(secretsReadBy(s, fns.ingest)).toEqual(
      new Set([db, ref(sec.qdrantApiKey), ref(sec.openaiApiKey)].map((v) => JSON.stringify(v))),
    );
    expect(secretsReadBy(s, fns.chat)).toEqual(
      new Set(
        [
          db,
          ref(sec.jwtSigningKey),
          ref(sec.qdrantApiKey),
          ref(sec.openaiApiKey),
          ref(sec.anthropicApiKey),
        ].map((v) => JSON.stringify(v)),
      ),
    );
    expect(secretsReadBy(s, fns.migrate)).toEqual(new Set([JSON.stringify(db)]));
  });

  it('when the functions are configured then each gets exactly the environment it reads', () => {
    const runtime = [
      'VECTOR_STORE',
      'QDRANT_URL',
      'QDRANT_API_KEY_SECRET_ARN',
      'EMBEDDING_PROVIDER',
      'EMBEDDING_MODEL',
      'EMBEDDING_DIMENSIONS',
      'KMS_KEY_ID',
      'DATABASE_SECRET_ARN',
      'DATABASE_HOST',
    ];
    expectCommonEnvironment(s, fns.api, 'minirag-api', [
      ...runtime,
      'JWT_SIGNING_KEY_SECRET_ARN',
      'ADMIN_TOKEN_SECRET_ARN',
      'OPENAI_API_KEY_SECRET_ARN',
      'QUEUE_URL',
      'CORS_ORIGINS',
      'MAX_UPLOAD_BYTES',
      'MAX_INLINE_UPLOAD_BYTES',
      'BLOB_BUCKET',
    ]);
    expectCommonEnvironment(s, fns.ingest, 'minirag-ingest', [
      ...runtime,
      'OPENAI_API_KEY_SECRET_ARN',
      'QUEUE_URL',
      'INGEST_MAX_ATTEMPTS',
      'MAX_UPLOAD_BYTES',
      'BLOB_BUCKET',
    ]);
    expectCommonEnvironment(s, fns.chat, 'minirag-chat-stream', [
      ...runtime,
      'JWT_SIGNING_KEY_SECRET_ARN',
      'OPENAI_API_KEY_SECRET_ARN',
      'ANTHROPIC_API_KEY_SECRET_ARN',
      'CORS_ORIGINS',
    ]);
    expectCommonEnvironment(s, fns.migrate, 'minirag-migrate', ['DATABASE_SECRET_ARN', 'DATABASE_HOST']);

    const env = functionProps(s, fns.api).Environment.Variables;
    expect(env).toMatchObject({
      VECTOR_STORE: 'qdrant',
      QDRANT_URL: 'https://qdrant.example.com',
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '1536',
      CORS_ORIGINS: 'https://app.example.com',
      QUEUE_URL: { Ref: s.logicalId(stack.ingest.queue) },
      KMS_KEY_ID: { 'Fn::GetAtt': [s.logicalId(stack.keys.credentialsKey), 'Arn'] },
      DATABASE_HOST: { 'Fn::GetAtt': [s.logicalId(stack.database.proxy!), 'Endpoint'] },
    });
  });

  it('when the database is Aurora then it is Serverless v2 PostgreSQL behind an RDS Proxy requiring TLS', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^16\\.'),
      StorageEncrypted: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      DeletionProtection: false,
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    template.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'POSTGRESQL', RequireTLS: true });
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('when the database is Aurora then every function runs in the private subnets and may reach the proxy', () => {
    const sg = s.logicalId(stack.database.network!.securityGroups[0]!);
    for (const fn of Object.values(fns)) {
      const vpc = functionProps(s, fn).VpcConfig;
      expect(vpc?.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sg, 'GroupId'] }]);
      expect(vpc?.SubnetIds).toHaveLength(2);
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] },
    });
  });

  it('when deploying then the migrate trigger runs after the cluster and the proxy exist', () => {
    const triggers = Object.values(template.findResources('Custom::Trigger'));
    expect(triggers).toHaveLength(1);
    const dependsOn = triggers[0]!.DependsOn as string[];
    expect(dependsOn).toContain(s.logicalId(stack.database.cluster!));
    expect(dependsOn).toContain(s.logicalId(stack.database.proxy!));
    expect(triggers[0]!.Properties).toMatchObject({
      ExecuteOnHandlerChange: true,
      InvocationType: 'RequestResponse',
    });
  });

  it('when the HTTP API is deployed then its stage is throttled and writes JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [s.logicalId(stack.api.accessLogs), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
  });

  it('when functions are built then they run Node.js 22 on ARM64 with source maps and retained logs', () => {
    for (const fn of Object.values(fns)) {
      const props = functionProps(s, fn);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.LoggingConfig).toMatchObject({ LogGroup: { Ref: s.logicalId(fn.logGroup) } });
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('when deployed then the stack outputs what the operator needs', () => {
    for (const name of [
      'ApiUrl',
      'ChatStreamUrl',
      'QueueUrl',
      'DlqUrl',
      'AdminTokenSecretArn',
      'DashboardUrl',
    ]) {
      template.hasOutput(name, {});
    }
  });

  it('when the cost is estimated then the always-on database, its proxy and the NAT gateway dominate the idle month', () => {
    const estimate = estimateCost(template.toJSON() as never, {
      api: s.logicalId(fns.api.function),
      chat: s.logicalId(fns.chat.function),
      ingest: s.logicalId(fns.ingest.function),
    });
    const monthly = (item: string) => estimate.fixed.find((f) => f.item === item)?.monthly;
    expect(estimate.databaseAccess).toBe('proxy');
    expect(monthly('NAT gateway')).toBeCloseTo(32.85, 2);
    expect(monthly('RDS Proxy')).toBeCloseTo(87.6, 2);
    expect(monthly('Aurora Serverless v2 writer')).toBeCloseTo(43.8, 2);
    expect(monthly('CloudWatch alarm')).toBeCloseTo(0.9, 2);
    expect(monthly('CloudWatch dashboard')).toBe(3);
    expect(estimate.idleMonthly).toBeGreaterThan(160);
    // Per-use figures: the 8 s streamed answer on 1 GB arm64 is ~USD 0.107 per 1,000.
    const chat = estimate.variable.find((v) => v.per === '1,000 chat answers')!;
    expect(chat.total).toBeCloseTo(0.107, 2);
  });
});
