import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSecretCache, createSecretResolver, databaseUrlFromRdsSecret } from '#shared/config/secrets.ts';
import { ProviderError, ValidationError } from '#shared/domain/errors.ts';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:minirag/admin-AbCdEf';
const RDS_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1234';
const rdsSecret = {
  username: 'minirag',
  password: 'p@ss:w/rd?#%',
  engine: 'postgres',
  host: 'db.abc.eu-west-1.rds.amazonaws.com',
  port: 5432,
  dbname: 'minirag',
};

/** The error a promise rejects with (the test fails if it resolves). */
const rejection = <E>(promise: Promise<unknown>): Promise<E> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as E,
  );

beforeEach(() => {
  sm.reset();
  clearSecretCache();
});
afterAll(() => sm.restore());

describe('secret resolver', () => {
  it('when resolved twice (even concurrently) then Secrets Manager is called once', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      SecretString: 'mrag_admin_from_secrets_manager',
    });
    const env = { ADMIN_TOKEN_SECRET_ARN: ARN };
    const resolver = createSecretResolver();
    const [a, b] = await Promise.all([
      resolver.resolve('ADMIN_TOKEN', { env }),
      resolver.resolve('ADMIN_TOKEN', { env }),
    ]);
    const c = await createSecretResolver().resolve('ADMIN_TOKEN', { env });
    expect([a, b, c]).toEqual(Array(3).fill('mrag_admin_from_secrets_manager'));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('when the TTL has passed then the secret is fetched again', async () => {
    let now = 0;
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolves({ SecretString: 'v2' });
    const resolver = createSecretResolver({ ttlMs: 1000, now: () => now });
    const env = { ADMIN_TOKEN_SECRET_ARN: ARN };
    await expect(resolver.resolve('ADMIN_TOKEN', { env })).resolves.toBe('v1');
    now = 1001;
    await expect(resolver.resolve('ADMIN_TOKEN', { env })).resolves.toBe('v2');
  });

  it('when both NAME and NAME_SECRET_ARN are set then the environment value wins', async () => {
    const env = { ADMIN_TOKEN: 'from-env', ADMIN_TOKEN_SECRET_ARN: ARN };
    await expect(createSecretResolver().resolve('ADMIN_TOKEN', { env })).resolves.toBe('from-env');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('when neither is set then undefined, or a ValidationError naming both variables if required', async () => {
    const resolver = createSecretResolver();
    await expect(
      resolver.resolve('JWT_SIGNING_KEY', { env: { JWT_SIGNING_KEY: '' } }),
    ).resolves.toBeUndefined();
    await expect(resolver.resolve('JWT_SIGNING_KEY', { env: {}, required: true })).rejects.toThrow(
      new ValidationError('JWT_SIGNING_KEY is not set: set JWT_SIGNING_KEY or JWT_SIGNING_KEY_SECRET_ARN'),
    );
  });

  it('when a JSON key is given then that field of the secret is returned', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ apiKey: 'qdrant-key', other: 1 }),
    });
    const env = { QDRANT_API_KEY_SECRET_ARN: ARN };
    await expect(createSecretResolver().resolve('QDRANT_API_KEY', { env, jsonKey: 'apiKey' })).resolves.toBe(
      'qdrant-key',
    );
  });

  it('when the JSON field is missing or the secret is not JSON then the error names the variable, not the value', async () => {
    const env = { OPENAI_API_KEY_SECRET_ARN: ARN };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ key: 'sk-hidden-1' }) });
    const missing = await rejection<ProviderError>(
      createSecretResolver().resolve('OPENAI_API_KEY', { env, jsonKey: 'apiKey' }),
    );
    expect(missing.message).toBe('The secret named by OPENAI_API_KEY_SECRET_ARN has no "apiKey" field');

    clearSecretCache();
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'sk-hidden-2 not json' });
    const notJson = await rejection<ProviderError>(
      createSecretResolver().resolve('OPENAI_API_KEY', { env, jsonKey: 'apiKey' }),
    );
    expect(notJson.message).toBe('The secret named by OPENAI_API_KEY_SECRET_ARN is not a JSON object');
    expect(notJson.cause).toBeUndefined();
    for (const e of [missing, notJson])
      expect(JSON.stringify([e.message, e.details])).not.toMatch(/sk-hidden/);
  });

  it.each([
    [
      new ResourceNotFoundException({ message: 'nope', $metadata: {} }),
      /ADMIN_TOKEN_SECRET_ARN does not exist/,
    ],
    [
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'x',
        $metadata: {},
      }),
      /not allowed to read the secret named by ADMIN_TOKEN_SECRET_ARN/,
    ],
  ])(
    'when Secrets Manager fails (%s) then a readable ProviderError, and the next call retries',
    async (err, message) => {
      sm.on(GetSecretValueCommand).rejectsOnce(err).resolves({ SecretString: 'ok' });
      const resolver = createSecretResolver();
      const env = { ADMIN_TOKEN_SECRET_ARN: ARN };
      const error = await rejection<ProviderError>(resolver.resolve('ADMIN_TOKEN', { env }));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error.message).toMatch(message);
      expect(error.cause).toBe(err);
      await expect(resolver.resolve('ADMIN_TOKEN', { env })).resolves.toBe('ok');
    },
  );

  it('when a secret is binary then it says so', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(createSecretResolver().resolve('X', { env: { X_SECRET_ARN: ARN } })).rejects.toThrow(
      /binary/,
    );
  });
});

describe('database URL', () => {
  it('when DATABASE_SECRET_ARN holds an RDS secret then a URL with an encoded password is built', async () => {
    sm.on(GetSecretValueCommand, { SecretId: RDS_ARN }).resolves({ SecretString: JSON.stringify(rdsSecret) });
    const url = await createSecretResolver().resolveDatabaseUrl({ env: { DATABASE_SECRET_ARN: RDS_ARN } });
    expect(url).toBe(
      'postgres://minirag:p%40ss%3Aw%2Frd%3F%23%25@db.abc.eu-west-1.rds.amazonaws.com:5432/minirag?sslmode=require',
    );
    const parsed = new URL(url!);
    expect(decodeURIComponent(parsed.password)).toBe(rdsSecret.password);
  });

  it('when an RDS Proxy host is given then it replaces the host in the secret', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(rdsSecret) });
    const url = await createSecretResolver().resolveDatabaseUrl({
      env: { DATABASE_SECRET_ARN: RDS_ARN },
      host: 'proxy.proxy-abc.eu-west-1.rds.amazonaws.com',
    });
    expect(new URL(url!).hostname).toBe('proxy.proxy-abc.eu-west-1.rds.amazonaws.com');
  });

  it('when the database secret still holds the placeholder then the error names the secret and what to do', async () => {
    sm.on(GetSecretValueCommand, { SecretId: RDS_ARN }).resolves({ SecretString: 'REPLACE_ME' });
    const error = await rejection<ValidationError>(
      createSecretResolver().resolveDatabaseUrl({ env: { DATABASE_SECRET_ARN: RDS_ARN } }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(`DATABASE_SECRET_ARN (${RDS_ARN})`);
    expect(error.message).toMatch(/placeholder "REPLACE_ME".+put-secret-value.+migrate function/);
  });

  it('when DATABASE_URL is set then it wins', async () => {
    const env = { DATABASE_URL: 'postgres://local/db', DATABASE_SECRET_ARN: RDS_ARN };
    await expect(createSecretResolver().resolveDatabaseUrl({ env })).resolves.toBe('postgres://local/db');
  });

  it('when the secret lacks fields then the error lists them and never the password', () => {
    const call = () =>
      databaseUrlFromRdsSecret({ password: 'hunter2-secret', port: 5432 }, { source: 'DATABASE_SECRET_ARN' });
    expect(call).toThrow(
      'The secret named by DATABASE_SECRET_ARN is not a usable database secret (check: username, host)',
    );
    expect(call).not.toThrow(/hunter2/);
  });

  it('when dbname and port are absent then the defaults are used', () => {
    expect(databaseUrlFromRdsSecret({ username: 'u', password: 'p', host: 'h' })).toBe(
      'postgres://u:p@h:5432/postgres?sslmode=require',
    );
  });
});
