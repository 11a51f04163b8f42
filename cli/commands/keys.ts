import type { Command } from 'commander';
import { masterKeyFromBase64 } from '#shared/adapters/local-keyring/local-key-vault.ts';
import { buildLocalPlatform } from '#shared/composition/local.ts';
import { addMasterKey, retirePreviousMasterKeys } from '#shared/config/key-file.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { Config } from '#shared/config/schema.ts';
import { createBotCredentialStore } from '#shared/repositories/bot-credentials-store.ts';
import { rotateCredentials } from '#shared/usecases/rotate-credentials.ts';
import { UsageError } from '../client/api-error.ts';
import { handled } from '../render/errors.ts';
import { bold, green, note, out, red, yellow } from '../render/style.ts';

interface RotateOptions {
  readonly newKey?: boolean;
  readonly retire?: boolean;
}

/**
 * `minirag keys rotate`: local only. Re-wraps every bot credential's data key under the current master
 * key (after `--new-key` made one). Works on the database directly, so the local server must be stopped:
 * PGlite is a single-process database.
 */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('local master key operations (run with the server stopped)');
  keys
    .command('rotate')
    .description('move every bot credential under the current master key (the data key is re-wrapped)')
    .option('--new-key', 'first make a new master key (the old one is kept until --retire)')
    .option('--retire', 'after a rotation with no failures, forget the previous master keys')
    .action(
      handled(async (options: RotateOptions) => {
        const config = loadConfig(process.env);
        // No profile applies: this works on the database itself, for every tenant in it.
        note(
          `→ every tenant's bot credentials in ${config.DATABASE_URL ? 'the DATABASE_URL database' : `PGlite in ${config.MINIRAG_DATA_DIR}`} (profiles do not apply)`,
        );
        if (!config.DATABASE_URL) await refuseWhileServing(config);
        if (options.newKey) {
          if (config.MASTER_KEY)
            throw new UsageError(
              'MASTER_KEY is set in the environment: make the new key there, not in the key file.',
            );
          const secrets = await addMasterKey(config.MINIRAG_DATA_DIR);
          out(
            `New master key ${bold(masterKeyFromBase64(secrets.masterKey).id)}; the previous one is kept to read old records.`,
          );
        }

        const platform = await buildLocalPlatform(config, 'minirag-keys');
        try {
          const result = await rotateCredentials(platform.vault, createBotCredentialStore(platform.db), {
            onBatch: (_cursor, counts) => note(`  … ${counts.scanned} credentials checked`),
          });
          out(
            `${bold('Rotation:')} ${result.scanned} credentials checked under ${platform.vault.currentKeyId}`,
          );
          out(
            `  ${green(`${result.rewrapped} re-wrapped`)}, ${result.alreadyCurrent} already current, ${result.changedMeanwhile} changed meanwhile, ${result.failed ? red(`${result.failed} failed`) : '0 failed'}`,
          );
          for (const f of result.failures) out(red(`  ✖ tenant ${f.tenantId} bot ${f.id}: ${f.reason}`));

          if (result.failed > 0 || result.changedMeanwhile > 0) {
            process.exitCode = result.failed > 0 ? 1 : 0;
            out(
              yellow(
                'Run `minirag keys rotate` again until nothing fails or changes before retiring old keys.',
              ),
            );
          } else if (options.retire) {
            await retirePreviousMasterKeys(config.MINIRAG_DATA_DIR);
            out('Previous master keys retired.');
          }
          if (options.newKey) out('Restart the server so it encrypts new credentials under the new key.');
        } finally {
          await platform.db.close();
        }
      }),
    );
}

async function refuseWhileServing(config: Config): Promise<void> {
  const url = `http://127.0.0.1:${config.PORT}/healthz`;
  const running = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (running) {
    throw new UsageError(
      `The local server is running on port ${config.PORT}. Stop it first: its embedded database can be opened by one process at a time.`,
    );
  }
}
