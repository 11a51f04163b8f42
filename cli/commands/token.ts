import type { Command } from 'commander';
import { SCOPES } from '#shared/domain/auth-context.ts';
import { UsageError } from '../client/api-error.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import type { ApiTokenJson } from '../client/types.ts';
import { handled } from '../render/errors.ts';
import { bold, note, out, yellow } from '../render/style.ts';
import { tokensTable } from '../render/tables.ts';

interface TokenCreateOptions {
  readonly name: string;
  readonly scopes: string;
  readonly expiresAt?: string;
  readonly serviceAccount?: boolean;
}

/** `minirag token create|list|revoke`: the tenant's API tokens. */
export function registerToken(program: Command): void {
  const token = program.command('token').description("manage the tenant's API tokens");

  token
    .command('create')
    .description('mint an API token (the secret is printed once)')
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, 'read,chat,sources:write')
    .option('--expires-at <date>', 'ISO 8601 expiry, e.g. 2026-12-31T00:00:00Z')
    .option('--service-account', 'not tied to a user (for servers and CI)')
    .action(
      handled(async (options: TokenCreateOptions, command: Command) => {
        const scopes = options.scopes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
        if (unknown.length > 0)
          throw new UsageError(`Unknown scope ${unknown.join(', ')}; choose from ${SCOPES.join(', ')}.`);
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        const created = await client.post<ApiTokenJson>('/v1/api-tokens', {
          json: {
            name: options.name,
            scopes,
            ...(options.expiresAt ? { expires_at: options.expiresAt } : {}),
            service_account: options.serviceAccount === true,
          },
        });
        out(
          `${bold('API token created:')} ${created.name} (id ${created.id}, scopes ${created.scopes.join(', ')})`,
        );
        out(`  ${bold(created.token ?? '')}`);
        out(yellow('  Shown only once: keep it somewhere safe.'));
      }),
    );

  token
    .command('list')
    .description("list the tenant's API tokens (never their secrets)")
    .action(
      handled(async (_options: unknown, command: Command) => {
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note);
        const tokens = await client.all<ApiTokenJson>('/v1/api-tokens');
        out(tokens.length === 0 ? 'No API tokens.' : tokensTable(tokens));
      }),
    );

  token
    .command('revoke')
    .description('revoke an API token (effective immediately)')
    .argument('<id>', 'the token id (see `minirag token list`)')
    .action(
      handled(async (id: string, _options: unknown, command: Command) => {
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        await client.delete(`/v1/api-tokens/${encodeURIComponent(id)}`);
        out(`Revoked token ${id}.`);
      }),
    );
}
