import type { Command } from 'commander';
import { checkProfileName, freeProfileName } from '../client/config-file.ts';
import {
  createAndSaveTenant,
  type GlobalOptions,
  resolveConnection,
  savedProfileLines,
} from '../client/connection.ts';
import { createTenantAsAdmin } from '../client/platform-admin.ts';
import { handled } from '../render/errors.ts';
import { bold, dim, note, out, yellow } from '../render/style.ts';

interface TenantCreateOptions {
  readonly email?: string;
  readonly password?: string;
  readonly slug?: string;
  readonly saveAs?: string;
  readonly save: boolean;
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'tenant';

/** `minirag tenant create <name>`: platform admin; prints the owner's credentials once. */
export function registerTenant(program: Command): void {
  const tenant = program.command('tenant').description('manage tenants (platform admin)');
  tenant
    .command('create')
    .description(
      'create a tenant with its owner and a first API token (admin token from MINIRAG_ADMIN_TOKEN, ADMIN_TOKEN or the local key file)',
    )
    .argument('<name>', 'the organisation name')
    .option('--email <email>', "the owner's e-mail (default: owner@<slug>.minirag.dev)")
    .option('--password <password>', 'a password for the owner, to sign in with POST /v1/auth/token')
    .option('--slug <slug>', 'the tenant slug (default: from the name)')
    .option('--save-as <profile>', 'the profile the token is saved as (default: the slug)')
    .option('--no-save', 'do not save the token as a CLI profile')
    .action(
      handled(async (name: string, options: TenantCreateOptions, command: Command) => {
        const connection = await resolveConnection(command.optsWithGlobals<GlobalOptions>());
        const slug = options.slug ?? slugOf(name);
        const email = options.email ?? `owner@${slug}.minirag.dev`;
        const input = { name, slug, email, password: options.password };
        const profileName = options.saveAs
          ? checkProfileName(options.saveAs)
          : freeProfileName(connection.config, slug, connection.apiUrl);
        const { created, saved } = options.save
          ? await createAndSaveTenant(connection, input, profileName)
          : { created: await createTenantAsAdmin(connection.apiUrl, input), saved: undefined };
        out(
          `${bold('Tenant created:')} ${created.tenant.name} (slug ${created.tenant.slug}, id ${created.tenant.id})`,
        );
        out(`  owner:     ${created.owner.email}${options.password ? ' (password set)' : ''}`);
        out(`  API token: ${bold(created.api_token.token)}`);
        out(yellow('  The token is shown only once: keep it somewhere safe.'));
        if (saved) for (const line of savedProfileLines(saved)) note(dim(line, process.stderr));
      }),
    );
}
