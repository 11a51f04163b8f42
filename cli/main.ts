import { Command } from 'commander';
import { registerMigrate } from './commands/migrate.ts';
import { registerServe } from './commands/serve.ts';

const program = new Command()
  .name('minirag')
  .description('MiniRAG: multi-tenant retrieval-augmented generation, locally or on AWS')
  .version('0.1.0');

registerServe(program);
registerMigrate(program);

await program.parseAsync(process.argv);
