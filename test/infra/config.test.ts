import { describe, expect, it } from 'vitest';
import { ContextError, loadDeployConfig } from '#infra/config.ts';

const load = (context: Record<string, unknown>) => loadDeployConfig((key) => context[key]);
const errorOf = (context: Record<string, unknown>): string => {
  try {
    load(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ContextError);
    return (error as Error).message;
  }
  throw new Error('expected a ContextError');
};

describe('deploy configuration from CDK context', () => {
  it('when no context is given then the defaults describe a dev stage on scale-to-zero Aurora with pgvector', () => {
    expect(load({})).toMatchObject({
      stage: 'dev',
      databaseMode: 'serverless',
      auroraAutoPauseSeconds: 300,
      monitoring: false,
      outboxSweepMinutes: 360,
      vectorStore: 'pgvector',
      deletionProtection: false,
      embeddingProvider: 'openai',
      embeddingModel: 'text-embedding-3-small',
      embeddingDimensions: 1536,
      corsOrigins: [],
      logRetention: 30,
      chatAuth: 'NONE',
      ingestBatchSize: 10,
      ingestBatchWindowSeconds: 2,
      ingestMaxConcurrency: 2,
    });
  });

  it('when values come from -c flags as strings then numbers, booleans and lists are parsed', () => {
    const config = load({
      stage: 'prod',
      embeddingDimensions: '3072',
      deletionProtection: 'false',
      corsOrigins: 'https://a.example.com, http://localhost:5173',
      reservedConcurrency: '50',
      qdrantUrl: 'https://xyz.cloud.qdrant.io:6333',
    });
    expect(config).toMatchObject({
      embeddingDimensions: 3072,
      deletionProtection: false,
      corsOrigins: ['https://a.example.com', 'http://localhost:5173'],
      reservedConcurrency: 50,
      vectorStore: 'qdrant',
    });
  });

  it('when values come from cdk.json as JSON then they are accepted as they are', () => {
    expect(load({ corsOrigins: ['*'], auroraMinCapacity: 1, deletionProtection: true })).toMatchObject({
      corsOrigins: ['*'],
      auroraMinCapacity: 1,
      deletionProtection: true,
    });
  });

  it('when the stage is prod then deletion protection and monitoring default to on', () => {
    expect(load({ stage: 'prod' })).toMatchObject({ deletionProtection: true, monitoring: true });
  });

  it('when the database is always on then the outbox sweep runs every 5 minutes unless set', () => {
    expect(load({ databaseMode: 'aurora' }).outboxSweepMinutes).toBe(5);
    expect(load({ databaseMode: 'external', outboxSweepMinutes: '15' }).outboxSweepMinutes).toBe(15);
  });

  it('when an alarm e-mail is given without monitoring then the error says monitoring must be on', () => {
    expect(errorOf({ alarmEmail: 'ops@example.com' })).toContain('-c alarmEmail: needs monitoring=true');
    expect(load({ alarmEmail: 'ops@example.com', monitoring: 'true' }).monitoring).toBe(true);
  });

  it('when the auto-pause delay is outside what Aurora allows then the range is named', () => {
    expect(errorOf({ auroraAutoPauseSeconds: '60' })).toContain(
      '-c auroraAutoPauseSeconds: must be at least 300',
    );
  });

  it('when a value is bad then the error names the context key, says what is expected and shows the value', () => {
    const message = errorOf({ databaseMode: 'rds', embeddingDimensions: 'lots', logRetentionDays: '10' });
    expect(message).toContain('-c databaseMode: must be "serverless", "aurora" or "external" (got "rds")');
    expect(message).toContain('-c embeddingDimensions: must be a number');
    expect(message).toContain('-c logRetentionDays: must be one of the CloudWatch Logs retention periods');
  });

  it('when uploads go straight to S3 then 100 MB is the default and sizes up to 2 GB are taken', () => {
    expect(load({}).maxUploadBytes).toBe(100 * 1024 * 1024);
    expect(load({ maxUploadBytes: 500 * 1024 * 1024 }).maxUploadBytes).toBe(500 * 1024 * 1024);
    expect(errorOf({ maxUploadBytes: 3_000_000_000 })).toMatch(
      /-c maxUploadBytes: .*2000000000.*\(got 3000000000\)/,
    );
  });

  it('when a CORS origin has a path then it is rejected by key', () => {
    expect(errorOf({ corsOrigins: 'https://a.example.com/app' })).toContain(
      '-c corsOrigins.0: each origin must be',
    );
  });

  it('when settings contradict each other then the error explains which key to fix', () => {
    expect(errorOf({ vectorStore: 'qdrant' })).toContain('-c qdrantUrl: required when vectorStore=qdrant');
    expect(
      errorOf({ databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' }),
    ).toContain('-c databaseSecretArn: only used with databaseMode=external');
    expect(errorOf({ auroraMinCapacity: 8, auroraMaxCapacity: 4 })).toContain('-c auroraMinCapacity');
    expect(errorOf({ ingestBatchSize: 50, ingestBatchWindowSeconds: 0 })).toContain(
      '-c ingestBatchSize: above 10 needs ingestBatchWindowSeconds',
    );
  });

  it('when the alarm e-mail or stage is malformed then the key is named', () => {
    expect(errorOf({ alarmEmail: 'ops' })).toContain('-c alarmEmail: must be an e-mail address');
    expect(errorOf({ stage: 'Prod_1' })).toContain('-c stage:');
  });
});
