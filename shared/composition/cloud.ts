import { createKmsKeyVault } from '../adapters/kms/kms-key-vault.ts';
import { createPostgresDatabase } from '../adapters/postgres/database.ts';
import type { Config } from '../config/schema.ts';
import { createSecretResolver, type Env } from '../config/secrets.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Platform } from '../platform.ts';
import { createLogger } from './logger.ts';

/**
 * The AWS composition: PostgreSQL (Aurora via RDS Proxy, or external), KMS, secrets from Secrets
 * Manager. Called once per Lambda container by each function's deps.ts.
 */
export async function buildCloudPlatform(config: Config, env: Env, serviceName: string): Promise<Platform> {
  const secrets = createSecretResolver();
  const [databaseUrl, adminToken, jwtSigningKey] = await Promise.all([
    secrets.resolveDatabaseUrl({ env, host: env.DATABASE_HOST }),
    secrets.resolve('ADMIN_TOKEN', { env }),
    secrets.resolve('JWT_SIGNING_KEY', { env, required: true }),
  ]);
  if (!databaseUrl) throw new ValidationError('DATABASE_URL or DATABASE_SECRET_ARN must be set');
  if (!config.KMS_KEY_ID) throw new ValidationError('KMS_KEY_ID must be set in AWS');
  return {
    config,
    db: createPostgresDatabase({
      url: databaseUrl,
      schema: config.DATABASE_SCHEMA,
      maxConnections: config.DATABASE_MAX_CONNECTIONS,
    }),
    logger: createLogger(config, serviceName),
    // Functions that never see the admin token (chat-stream, ingest) get an unguessable stand-in.
    secrets: { adminToken: adminToken ?? `unset-${crypto.randomUUID()}`, jwtSigningKey: jwtSigningKey! },
    vault: createKmsKeyVault({ keyId: config.KMS_KEY_ID }),
  };
}
