import type { Command } from 'commander';
import { UsageError } from '../client/api-error.ts';
import {
  type CliConfig,
  configFilePath,
  knownProfiles,
  maskToken,
  readConfig,
  writeConfig,
} from '../client/config-file.ts';
import { type GlobalOptions, selectProfile } from '../client/connection.ts';
import { handled } from '../render/errors.ts';
import { bold, dim, note, out, yellow } from '../render/style.ts';
import { profilesTable } from '../render/tables.ts';

/** `minirag profile list|use|show`: the saved connections (server + tenant token), like AWS CLI profiles. */
export function registerProfile(program: Command): void {
  const profile = program
    .command('profile')
    .description(
      'saved connections (server + tenant token): choose one with --profile or MINIRAG_PROFILE, else the current one',
    );

  profile
    .command('list')
    .description('list the saved profiles; * marks the current one')
    .action(
      handled(async () => {
        const config = await readConfig();
        const names = Object.keys(config.profiles);
        if (names.length === 0) {
          out(knownProfiles(config));
          return;
        }
        out(profilesTable(config));
        overridden(config);
      }),
    );

  profile
    .command('use')
    .description('make a profile the current one (the default of every command)')
    .argument('<name>', 'the profile')
    .action(
      handled(async (name: string) => {
        const config = await readConfig();
        const chosen = config.profiles[name];
        if (!chosen) throw new UsageError(`Unknown profile '${name}'. ${knownProfiles(config)}`);
        await writeConfig({ ...config, current: name });
        out(`Current profile: ${bold(name)} (tenant ${chosen.tenant ?? 'unknown'} at ${chosen.api_url})`);
        overridden({ ...config, current: name });
      }),
    );

  profile
    .command('show')
    .description('show a profile (default: the one commands would use); the token is masked')
    .argument('[name]', 'the profile')
    .action(
      handled(async (name: string | undefined, _options: unknown, command: Command) => {
        const config = await readConfig();
        const shown =
          name ?? selectProfile(command.optsWithGlobals<GlobalOptions>(), process.env, config)?.name;
        if (!shown) {
          out(knownProfiles(config));
          return;
        }
        const p = config.profiles[shown];
        if (!p) throw new UsageError(`Unknown profile '${shown}'. ${knownProfiles(config)}`);
        out(`${bold('Profile:')}  ${shown}${config.current === shown ? ' (current)' : ''}`);
        out(`  API URL:  ${p.api_url}`);
        if (p.chat_url) out(`  chat URL: ${p.chat_url}`);
        out(`  tenant:   ${p.tenant ?? 'unknown'}${p.tenant_id ? ` (${p.tenant_id})` : ''}`);
        out(`  token:    ${maskToken(p.token)}`);
        out(dim(`  saved in ${configFilePath()}`));
      }),
    );
}

/** MINIRAG_PROFILE beats the current profile: say so where a user would expect the current one to apply. */
function overridden(config: CliConfig): void {
  const fromEnv = process.env.MINIRAG_PROFILE;
  if (fromEnv && fromEnv !== config.current)
    note(
      yellow(
        `MINIRAG_PROFILE=${fromEnv} is set: commands in this shell use it, not the current profile.`,
        process.stderr,
      ),
    );
}
