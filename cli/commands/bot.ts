import type { Command } from 'commander';
import { UsageError } from '../client/api-error.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import type { BotJson } from '../client/types.ts';
import { handled } from '../render/errors.ts';
import { bold, note, out } from '../render/style.ts';
import { botsTable } from '../render/tables.ts';

const PROVIDERS = ['openai', 'anthropic', 'openai-compatible', 'bedrock'];

interface BotCreateOptions {
  readonly name: string;
  readonly provider?: string;
  readonly model?: string;
  readonly baseUrl?: string;
  readonly region?: string;
  readonly apiKeyEnv?: string;
  readonly systemPrompt?: string;
  readonly temperature?: string;
  readonly topK?: string;
  readonly queryExpansion?: boolean;
}

/** `minirag bot create|list|delete`. Provider keys come from an environment variable, never from argv. */
export function registerBot(program: Command): void {
  const bot = program.command('bot').description("manage the tenant's bots");

  bot
    .command('create')
    .description('create a bot (without --provider it answers extractively, with no LLM)')
    .option('--name <name>', 'the bot name', 'Default bot')
    .option('--provider <provider>', PROVIDERS.join(' | '))
    .option(
      '--model <model>',
      'model name (default: gpt-4o-mini for openai, claude-3-5-haiku-latest for anthropic, amazon.nova-lite-v1:0 for bedrock)',
    )
    .option('--base-url <url>', 'the server of an openai-compatible provider')
    .option('--region <region>', "bedrock: the AWS region serving the model (default: the server's)")
    .option(
      '--api-key-env <VAR>',
      'the environment variable holding the provider key (stored encrypted, write-only)',
    )
    .option('--system-prompt <text>', 'instructions placed before the platform rules')
    .option('--temperature <n>', 'sampling temperature, 0–2')
    .option('--top-k <n>', 'passages retrieved per question (default 6)')
    .option(
      '--query-expansion',
      'widen each question with the words of its best full-text matches (RM3): better recall, slower search',
    )
    .action(
      handled(async (options: BotCreateOptions, command: Command) => {
        if (options.provider && !PROVIDERS.includes(options.provider))
          throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}.`);
        let apiKey: string | undefined;
        if (options.apiKeyEnv) {
          apiKey = process.env[options.apiKeyEnv];
          if (!apiKey)
            throw new UsageError(`The environment variable ${options.apiKeyEnv} is not set or empty.`);
          if (!options.provider) throw new UsageError('--api-key-env needs --provider.');
          if (options.provider === 'bedrock')
            throw new UsageError(
              "A bedrock bot takes no key: Bedrock is called with the server's AWS identity.",
            );
        }
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        const created = await client.post<BotJson>('/v1/bots', {
          json: {
            name: options.name,
            ...(options.provider ? { provider: options.provider } : {}),
            ...(options.model ? { model: options.model } : {}),
            ...(options.baseUrl ? { base_url: options.baseUrl } : {}),
            ...(options.region ? { region: options.region } : {}),
            ...(options.systemPrompt ? { system_prompt: options.systemPrompt } : {}),
            ...(options.temperature ? { temperature: Number(options.temperature) } : {}),
            ...(options.topK || options.queryExpansion
              ? {
                  retrieval: {
                    ...(options.topK ? { top_k: Number(options.topK) } : {}),
                    ...(options.queryExpansion ? { query_expansion: true } : {}),
                  },
                }
              : {}),
            ...(apiKey ? { credentials: { api_key: apiKey } } : {}),
          },
        });
        out(`${bold('Bot created:')} ${created.name} (id ${created.id})`);
        out(
          `  ${created.provider ? `${created.provider} / ${created.model}` : 'no provider: extractive answers (quotes with citations)'}` +
            (created.credentials.configured ? `, key configured ${created.credentials.last4}` : ''),
        );
        out(
          `  Retrieval: top ${created.retrieval.top_k} passages` +
            (created.retrieval.query_expansion ? ', query expansion on' : ''),
        );
        out(`  Chat with it: minirag chat --bot ${created.id}`);
      }),
    );

  bot
    .command('list')
    .description("list the tenant's bots")
    .action(
      handled(async (_options: unknown, command: Command) => {
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note);
        const bots = await client.all<BotJson>('/v1/bots');
        out(bots.length === 0 ? 'No bots yet: `minirag bot create` makes one.' : botsTable(bots));
      }),
    );

  bot
    .command('delete')
    .description('delete a bot and its chats')
    .argument('<id>', 'the bot id')
    .action(
      handled(async (id: string, _options: unknown, command: Command) => {
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        await client.delete(`/v1/bots/${encodeURIComponent(id)}`);
        out(`Deleted bot ${id}.`);
      }),
    );
}
