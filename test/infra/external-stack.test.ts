import { describe, expect, it } from 'vitest';
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
  stage: 'ext',
  databaseMode: 'external',
  embeddingProvider: 'offline',
  embeddingModel: 'minirag-offline',
  embeddingDimensions: '256',
  chatAuth: 'AWS_IAM',
  reservedConcurrency: '20',
  logRetentionDays: '14',
  logLevel: 'DEBUG',
});
const { stack, template } = s;
const fns = stackFunctions(stack);

describe('MiniRAG stack with an external database', () => {
  it('when synthesized with AwsSolutions checks then there is no unacknowledged finding and no error', () => {
    expectNagClean(s);
  });

  it('when the database is external then there is no VPC, no RDS and no function in a VPC', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
    for (const fn of Object.values(fns)) {
      const props = functionProps(s, fn);
      expect(props.VpcConfig).toBeUndefined();
      expect(props.Environment.Variables.DATABASE_HOST).toBeUndefined();
    }
  });

  it('when no secret ARN is given then a retained DATABASE_URL secret is created and migrations wait for it', () => {
    const secretId = s.logicalId(stack.database.secret);
    const secret = template.toJSON().Resources[secretId];
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.Properties.SecretString).toBe('REPLACE_ME');
    const trigger = Object.values(template.findResources('Custom::Trigger'))[0]!;
    expect(trigger.DependsOn).toContain(secretId);
    expect(secretsReadBy(s, fns.migrate)).toEqual(new Set([JSON.stringify({ Ref: secretId })]));
  });

  it('when the vector store is pgvector and embeddings are offline then no Qdrant or embedding key is wired', () => {
    expect(stack.secrets.qdrantApiKey).toBeUndefined();
    expectCommonEnvironment(
      s,
      fns.ingest,
      'minirag-ingest',
      [
        'VECTOR_STORE',
        'EMBEDDING_PROVIDER',
        'EMBEDDING_MODEL',
        'EMBEDDING_DIMENSIONS',
        'KMS_KEY_ID',
        'DATABASE_SECRET_ARN',
        'QUEUE_URL',
        'INGEST_MAX_ATTEMPTS',
        'MAX_UPLOAD_BYTES',
        'BLOB_BUCKET',
      ],
      'DEBUG',
    );
    expect(functionProps(s, fns.ingest).Environment.Variables).toMatchObject({
      VECTOR_STORE: 'pgvector',
      EMBEDDING_PROVIDER: 'offline',
      EMBEDDING_MODEL: 'minirag-offline',
      EMBEDDING_DIMENSIONS: '256',
    });
    const db = JSON.stringify(s.resolve(stack.database.secret.secretArn));
    expect(secretsReadBy(s, fns.ingest)).toEqual(new Set([db]));
    expect(functionProps(s, fns.api).Environment.Variables.OPENAI_API_KEY_SECRET_ARN).toBeUndefined();
  });

  it('when chatAuth is AWS_IAM then the function URL requires SigV4 and grants no public invoke', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      InvokeMode: 'RESPONSE_STREAM',
    });
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
    expect(permissions.filter((p) => p.Properties.Principal === '*')).toEqual([]);
  });

  it('when reserved concurrency is set then the api and chat-stream functions are capped', () => {
    expect(functionProps(s, fns.api).ReservedConcurrentExecutions).toBe(20);
    expect(functionProps(s, fns.chat).ReservedConcurrentExecutions).toBe(20);
    expect(functionProps(s, fns.ingest).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('when monitoring is left at its default outside stage prod then there are no alarms, dashboard or alarm topic', () => {
    expect(stack.observability).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('when any IAM policy is walked then no action and no resource is a wildcard', () => {
    expectLeastPrivilegeIdentityPolicies(s);
    const grants = keyPolicyGrants(s);
    expect([...grants.values()].sort()).toEqual([['kms:Decrypt'], ['kms:Decrypt', 'kms:GenerateDataKey']]);
  });
});
