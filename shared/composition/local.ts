import { join } from 'node:path';
import { createLocalKeyVaultFromBase64 } from '../adapters/local-keyring/local-key-vault.ts';
import { createPgliteDatabase } from '../adapters/pglite/database.ts';
import { createPostgresDatabase } from '../adapters/postgres/database.ts';
import { loadOrCreateLocalSecrets } from '../config/key-file.ts';
import type { Config } from '../config/schema.ts';
import { migrate } from '../db/migrate.ts';
import type { Platform } from '../platform.ts';
import { createLogger } from './logger.ts';

/**
 * The one-machine composition (`npm start`, the CLI): PGlite under the data directory unless
 * DATABASE_URL points at a server, secrets from env or the generated local key file, the local keyring.
 */
export async function buildLocalPlatform(config: Config, serviceName = 'minirag'): Promise<Platform> {
  const fileSecrets = await loadOrCreateLocalSecrets(config.MINIRAG_DATA_DIR);
  const db = config.DATABASE_URL
    ? createPostgresDatabase({
        url: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        maxConnections: config.DATABASE_MAX_CONNECTIONS,
      })
    : await createPgliteDatabase({ dataDir: join(config.MINIRAG_DATA_DIR, 'pgdata') });
  await migrate(db);
  return {
    config,
    db,
    logger: createLogger(config, serviceName),
    secrets: {
      adminToken: config.ADMIN_TOKEN ?? fileSecrets.adminToken,
      jwtSigningKey: config.JWT_SIGNING_KEY ?? fileSecrets.jwtSigningKey,
    },
    vault: createLocalKeyVaultFromBase64({
      current: config.MASTER_KEY ?? fileSecrets.masterKey,
      previous: fileSecrets.previousMasterKeys,
    }),
  };
}
