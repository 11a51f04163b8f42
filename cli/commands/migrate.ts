import type { Command } from 'commander';
import { buildLocalPlatform } from '#shared/composition/local.ts';
import { loadConfig } from '#shared/config/load.ts';
import { migrate } from '#shared/db/migrate.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (PGlite in the data dir, or DATABASE_URL)')
    .action(async () => {
      const platform = await buildLocalPlatform(loadConfig(process.env), 'minirag-migrate');
      // buildLocalPlatform already migrated; run again to report what is there.
      const result = await migrate(platform.db);
      process.stdout.write(`Migrations up to date (${result.alreadyApplied} applied).\n`);
      await platform.db.close();
    });
}
