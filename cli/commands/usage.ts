import type { Command } from 'commander';
import { UsageError } from '../client/api-error.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import type { BotJson, UsageJson } from '../client/types.ts';
import { handled } from '../render/errors.ts';
import { dim, note, out } from '../render/style.ts';
import { usageTable } from '../render/tables.ts';

interface UsageOptions {
  readonly groupBy: string;
  readonly from?: string;
  readonly to?: string;
}

/** `minirag usage`: the tenant's tokens and cost, by day, bot, model or publishable key. */
export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description("the tenant's token usage and cost (default: the last 30 days)")
    .option('--group-by <key>', 'day | bot | model | publishable_key', 'day')
    .option('--from <date>', 'start (ISO 8601 date or date-time)')
    .option('--to <date>', 'end (ISO 8601 date or date-time)')
    .action(
      handled(async (options: UsageOptions, command: Command) => {
        if (!['day', 'bot', 'model', 'publishable_key'].includes(options.groupBy))
          throw new UsageError('--group-by must be day, bot, model or publishable_key.');
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note);
        const usage = await client.get<UsageJson>('/v1/usage', {
          query: { group_by: options.groupBy, from: options.from, to: options.to },
        });
        out(dim(`${usage.from.slice(0, 10)} → ${usage.to.slice(0, 10)}`));
        if (usage.data.length === 0) {
          out('No usage in this period.');
          return;
        }
        if (usage.group_by === 'bot') {
          // Bot ids mean little to a person: show the name beside a short id.
          const names = new Map((await client.all<BotJson>('/v1/bots')).map((b) => [b.id, b.name]));
          const data = usage.data.map((r) => ({
            ...r,
            key: r.key ? `${names.get(r.key) ?? 'deleted bot'} (${r.key.slice(0, 8)})` : 'no bot (ingestion)',
          }));
          out(usageTable({ ...usage, data }));
          return;
        }
        out(usageTable(usage));
      }),
    );
}
