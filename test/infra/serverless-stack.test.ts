import { describe, expect, it } from 'vitest';
import { estimateCost } from '#infra/cost/estimate.ts';
import {
  expectCommonEnvironment,
  expectLeastPrivilegeIdentityPolicies,
  expectNagClean,
  functionProps,
  stackFunctions,
} from './stack-assertions.ts';
import { actionsOf, identityPolicies, resourcesOf, synthesize } from './synth.ts';

// The default profile: no databaseMode given.
const s = synthesize({ stage: 'pilot' });
const { stack, template } = s;
const fns = stackFunctions(stack);

describe('MiniRAG stack in serverless mode (the default)', () => {
  it('when synthesized with AwsSolutions checks then there is no unacknowledged finding and no error', () => {
    expectNagClean(s);
  });

  it('when the database is serverless then Aurora pauses at 0 ACU and serves the Data API', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      EnableHttpEndpoint: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4, SecondsUntilAutoPause: 300 },
    });
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
  });

  it('when the database is serverless then nothing bills by the hour: no NAT gateway, no public subnet, no function in a VPC', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    for (const fn of Object.values(fns)) expect(functionProps(s, fn).VpcConfig).toBeUndefined();
  });

  it('when functions reach the database then they may call the Data API on this cluster only', () => {
    const clusterArn = JSON.stringify(s.resolve(stack.database.cluster!.clusterArn));
    const dataApiGrants = identityPolicies(template).flatMap((p) =>
      p.statements
        .filter((st) => actionsOf(st).some((a) => a.startsWith('rds-data:')))
        .map((st) => ({ roles: p.roles, resources: resourcesOf(st).map((r) => JSON.stringify(r)) })),
    );
    for (const fn of Object.values(fns)) {
      const role = JSON.stringify(s.resolve(fn.function.role!.roleName));
      const grants = dataApiGrants.filter((g) => g.roles.some((r) => JSON.stringify(r) === role));
      expect(grants.length).toBeGreaterThan(0);
      for (const grant of grants) expect(grant.resources).toEqual([clusterArn]);
    }
    expectLeastPrivilegeIdentityPolicies(s);
  });

  it('when the functions are configured then they get the Data API driver, the cluster ARN and the database name', () => {
    for (const fn of Object.values(fns)) {
      expect(functionProps(s, fn).Environment.Variables).toMatchObject({
        DATABASE_DRIVER: 'data-api',
        DATABASE_CLUSTER_ARN: s.resolve(stack.database.cluster!.clusterArn),
        DATABASE_NAME: 'minirag',
        DATABASE_SECRET_ARN: s.resolve(stack.database.secret.secretArn),
      });
      expect(functionProps(s, fn).Environment.Variables.DATABASE_HOST).toBeUndefined();
    }
    expectCommonEnvironment(s, fns.migrate, 'minirag-migrate', [
      'DATABASE_SECRET_ARN',
      'DATABASE_DRIVER',
      'DATABASE_CLUSTER_ARN',
      'DATABASE_NAME',
    ]);
  });

  it('when idle then no alarm, dashboard or frequent sweep keeps costing or wakes the database', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
  });

  it('when the cost is estimated then the idle month stays under USD 5 and database calls are billed as Data API requests', () => {
    const estimate = estimateCost(template.toJSON() as never, {
      api: s.logicalId(fns.api.function),
      chat: s.logicalId(fns.chat.function),
      ingest: s.logicalId(fns.ingest.function),
    });
    expect(estimate.databaseAccess).toBe('data-api');
    expect(estimate.fixed.map((f) => f.item)).not.toContain('NAT gateway');
    expect(estimate.fixed.find((f) => f.item === 'Aurora Serverless v2 writer')?.monthly).toBe(0);
    expect(estimate.idleMonthly).toBeLessThan(5);
    const api = estimate.variable.find((v) => v.per === '1,000 API requests')!;
    expect(api.parts.find((p) => p.item === 'Database calls')!.cost).toBeGreaterThan(0);
  });
});

describe('metrics and traces of the functions', () => {
  it('when synthesized then every function traces actively and names the metric namespace and stage', () => {
    for (const fn of Object.values(fns)) {
      const props = functionProps(s, fn);
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: 'MiniRAG',
        MINIRAG_STAGE: 'pilot',
      });
    }
  });

  it('when the dashboard is built then it graphs the chat and ingest metrics by service and stage, never by tenant', () => {
    const monitored = synthesize({ stage: 'pilot', monitoring: 'true' });
    const dashboards = Object.values(monitored.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(monitored.resolve(dashboards[0]!.Properties.DashboardBody));
    for (const metric of [
      'AnswerFirstTokenLatency',
      'AnswerLatency',
      'AnswerInputTokens',
      'AnswerOutputTokens',
      'RetrievalCandidates',
      'AnswerErrors',
      'SourcesCompleted',
      'SourcesFailed',
      'ChunksStored',
      'EmbeddingCalls',
      'EmbeddingTokens',
      'IngestDuration',
    ])
      expect(body, metric).toContain(metric);
    expect(body).toContain('minirag-chat-stream');
    expect(body).toContain('minirag-ingest');
    expect(body).not.toMatch(/tenant/i);
  });
});
