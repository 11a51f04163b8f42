import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#shared/config/load.ts';
import { ValidationError } from '#shared/domain/errors.ts';

/** The error loadConfig throws for `env` (fails the test when it does not throw). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('configuration', () => {
  it('when nothing is set then the documented defaults apply', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 8787,
      MINIRAG_DATA_DIR: '.minirag',
      LOG_LEVEL: 'INFO',
      DATABASE_MAX_CONNECTIONS: 5,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      VECTOR_STORE: 'pgvector',
      CHUNK_TOKENS: 512,
      CHUNK_OVERLAP_TOKENS: 64,
      MAX_UPLOAD_BYTES: 100 * 1024 * 1024,
      UPLOAD_URL_SECONDS: 900,
      MAX_JSON_BODY_BYTES: 1024 * 1024,
      CORS_ORIGINS: [],
      ALLOW_LOCAL_PROVIDER_URLS: false,
    });
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.JWT_SIGNING_KEY).toBeUndefined();
  });

  it('when values are set then they are parsed to their types, and empty strings count as unset', () => {
    const config = loadConfig({
      PORT: '3000',
      ALLOW_LOCAL_PROVIDER_URLS: 'yes',
      CORS_ORIGINS: 'https://a.example, https://b.example,,',
      LOG_LEVEL: 'debug',
      MAX_JSON_BODY_BYTES: '',
      UNRELATED_VARIABLE: 'ignored',
    });
    expect(config).toMatchObject({
      PORT: 3000,
      ALLOW_LOCAL_PROVIDER_URLS: true,
      CORS_ORIGINS: ['https://a.example', 'https://b.example'],
      LOG_LEVEL: 'debug',
      MAX_JSON_BODY_BYTES: 1024 * 1024,
    });
    expect(config).not.toHaveProperty('UNRELATED_VARIABLE');
  });

  it.each(['abc', '0', '70000', '80.5', '-1'])('when PORT is %j then the error names PORT', (port) => {
    const error = configError({ PORT: port });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^Invalid configuration: PORT: /);
  });

  it('when secrets are too short or malformed then the error names them but never echoes their values', () => {
    const secrets = {
      JWT_SIGNING_KEY: 'short-jwt-secret-VALUE1',
      ADMIN_TOKEN: 'short-admin-VALUE2',
      DATABASE_URL: 'mysql://app:hunter2-VALUE3@db.internal/minirag',
      QUEUE_URL: 'not a url with token VALUE4',
    };
    const error = configError(secrets);
    for (const [name, value] of Object.entries(secrets)) {
      expect(error.message).toContain(name);
      expect(error.message).not.toContain(value);
      expect(error.message).not.toContain(value.slice(-6));
    }
    expect(error.message).toContain('at least 32 characters');
  });

  it('when several settings are wrong then one error lists every one of them', () => {
    const error = configError({ PORT: 'x', VECTOR_STORE: 'pinecone', ALLOW_LOCAL_PROVIDER_URLS: 'maybe' });
    for (const name of ['PORT', 'VECTOR_STORE', 'ALLOW_LOCAL_PROVIDER_URLS'])
      expect(error.message).toContain(name);
  });

  it('when settings conflict then the error says which and why', () => {
    expect(configError({ VECTOR_STORE: 'qdrant' }).message).toContain('QDRANT_URL');
    expect(configError({ CHUNK_TOKENS: '100', CHUNK_OVERLAP_TOKENS: '100' }).message).toContain(
      'CHUNK_OVERLAP_TOKENS',
    );
    expect(loadConfig({ VECTOR_STORE: 'qdrant', QDRANT_URL: 'https://q.example:6333' }).VECTOR_STORE).toBe(
      'qdrant',
    );
  });

  it('when a limit is outside its range then it is refused', () => {
    expect(configError({ MAX_JSON_BODY_BYTES: '10' }).message).toContain('MAX_JSON_BODY_BYTES');
    expect(configError({ ACCESS_TOKEN_TTL_SECONDS: '5' }).message).toContain('ACCESS_TOKEN_TTL_SECONDS');
    expect(configError({ DATABASE_SCHEMA: 'Robert"); drop' }).message).toContain('DATABASE_SCHEMA');
  });
});
