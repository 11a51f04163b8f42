import { Command } from 'commander';
import { registerBot } from './commands/bot.ts';
import { registerChat } from './commands/chat.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerFeedback } from './commands/feedback.ts';
import { registerIngest } from './commands/ingest.ts';
import { registerProfile } from './commands/profile.ts';
import { registerTenant } from './commands/tenant.ts';
import { registerToken } from './commands/token.ts';
import { registerUsage } from './commands/usage.ts';

type Register = (program: Command) => void;

const program = new Command()
  .name('minirag')
  .description('MiniRAG: multi-tenant retrieval-augmented generation, locally or on AWS')
  .version('0.1.0')
  .option(
    '--api-url <url>',
    'the MiniRAG API (default: MINIRAG_API_URL, the local server running on MINIRAG_DATA_DIR, or http://localhost:8787)',
  )
  .option('--chat-url <url>', 'where streamed answers are asked (default: MINIRAG_CHAT_URL or the API URL)')
  .option('--token <token>', "a tenant API token (default: MINIRAG_TOKEN or the profile's)")
  .option(
    '--profile <name>',
    'a saved profile: server + tenant token (default: MINIRAG_PROFILE, else the current one; see `minirag profile list`)',
  )
  .showHelpAfterError();

/**
 * Commands that load the whole platform (PGlite, the providers, the AWS SDK: seconds of start-up) are
 * imported only when they run, or when help lists everything; the API-client commands stay fast.
 */
const platformCommands: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./commands/serve.ts')).registerServe,
  keys: async () => (await import('./commands/keys.ts')).registerKeys,
  migrate: async () => (await import('./commands/migrate.ts')).registerMigrate,
  eval: async () => (await import('./commands/eval.ts')).registerEval,
};
const requested = commandName(process.argv.slice(2));
const wanted = (name: string) => requested === undefined || requested === 'help' || requested === name;
const platformCommand = async (name: string) => {
  const load = platformCommands[name];
  if (load && wanted(name)) (await load())(program);
};

// In the order `minirag --help` lists them.
await platformCommand('serve');
for (const register of [
  registerDemo,
  registerTenant,
  registerToken,
  registerBot,
  registerIngest,
  registerChat,
  registerUsage,
  registerFeedback,
  registerProfile,
  registerDoctor,
])
  register(program);
for (const name of ['keys', 'migrate', 'eval']) await platformCommand(name);

await program.parseAsync(process.argv);

/** The sub-command the arguments name (skipping the global options and their values). */
function commandName(args: readonly string[]): string | undefined {
  const withValue = new Set(['--api-url', '--chat-url', '--token', '--profile']);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (withValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}
