import type { Config } from './config/schema.ts';
import type { Database } from './ports/database.ts';
import type { KeyVault } from './ports/key-vault.ts';
import type { Logger } from './ports/logger.ts';

/** Secrets resolved at start-up (from env, the local key file or Secrets Manager). */
export interface PlatformSecrets {
  readonly adminToken: string;
  readonly jwtSigningKey: string;
}

/**
 * Everything a function's app needs, built once per container by its `deps.ts` (the composition root)
 * and passed to `createApiApp(platform)` / `createChatStreamApp(platform)`.
 */
export interface Platform {
  readonly config: Config;
  readonly db: Database;
  readonly logger: Logger;
  readonly secrets: PlatformSecrets;
  readonly vault: KeyVault;
}
