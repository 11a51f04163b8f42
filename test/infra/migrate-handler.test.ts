import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { databaseUrlFromSecret, PLACEHOLDER } from '#functions/migrate/database-url.ts';
import { PLACEHOLDER as INFRA_PLACEHOLDER } from '#infra/constructs/secrets.ts';

describe('migrate function: database URL from the secret', () => {
  it('when the secret is an RDS-style JSON secret then the URL encodes the password and requires TLS', () => {
    const secret = JSON.stringify({
      username: 'minirag',
      password: 'p@ss:w/rd?#',
      host: 'cluster.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      dbname: 'minirag',
    });
    expect(databaseUrlFromSecret(secret)).toBe(
      'postgres://minirag:p%40ss%3Aw%2Frd%3F%23@cluster.abc.eu-west-1.rds.amazonaws.com:5432/minirag?sslmode=require',
    );
  });

  it('when a host override is given then the URL points at it (the RDS Proxy endpoint)', () => {
    const secret = JSON.stringify({ username: 'u', password: 'p', host: 'cluster', port: 5432, dbname: 'd' });
    expect(databaseUrlFromSecret(secret, { host: 'proxy.example', sslmode: 'verify-full' })).toBe(
      'postgres://u:p@proxy.example:5432/d?sslmode=verify-full',
    );
  });

  it('when the secret is a postgres URL then it is used as it is', () => {
    expect(databaseUrlFromSecret(' postgresql://a:b@db.example.com/x?sslmode=require\n')).toBe(
      'postgresql://a:b@db.example.com/x?sslmode=require',
    );
  });

  it('when the secret still holds the placeholder then there is no URL', () => {
    expect(PLACEHOLDER).toBe(INFRA_PLACEHOLDER);
    expect(databaseUrlFromSecret(PLACEHOLDER)).toBeUndefined();
  });

  it('when the secret is neither then the error does not echo it', () => {
    expect(() => databaseUrlFromSecret('hunter2')).toThrow(/neither a postgres:\/\/ URL nor/);
    expect(() => databaseUrlFromSecret('hunter2')).not.toThrow(/hunter2/);
    expect(() => databaseUrlFromSecret(JSON.stringify({ username: 'u', host: 'h' }))).toThrow(/password/);
  });
});

describe('migrate function handler', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    sm.reset();
    vi.unstubAllEnvs();
  });

  it('when the external database secret is not filled in yet then migrations are skipped, not failed', async () => {
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('DATABASE_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf');
    sm.on(GetSecretValueCommand).resolves({ SecretString: PLACEHOLDER });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { handler } = await import('#functions/migrate/handler.ts');
    await expect(handler()).resolves.toMatchObject({ status: 'skipped' });
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
    });
    log.mockRestore();
  });

  it('when neither DATABASE_URL nor DATABASE_SECRET_ARN is set then it fails with a readable error', async () => {
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('DATABASE_SECRET_ARN', '');
    const { handler } = await import('#functions/migrate/handler.ts');
    await expect(handler()).rejects.toThrow('Neither DATABASE_URL nor DATABASE_SECRET_ARN is set');
  });
});
