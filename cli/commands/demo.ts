import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.ts';
import { ApiError } from '../client/api-error.ts';
import { collectInputs } from '../client/collect-inputs.ts';
import { configFilePath, loadSavedCredential } from '../client/config-file.ts';
import {
  type Connection,
  createAndSaveTenant,
  type GlobalOptions,
  resolveConnection,
} from '../client/connection.ts';
import { handled } from '../render/errors.ts';
import { bold, dim, note, out } from '../render/style.ts';
import { ingestAndReport } from './ingest.ts';

const DEMO_DOCS = fileURLToPath(new URL('../../docs/demo/', import.meta.url));

/** `minirag demo` (`npm run demo`): a "demo" tenant, its token saved, MiniRAG's own docs ingested. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'create a "demo" tenant (if missing), save its token, ingest docs/demo and show what to try next',
    )
    .action(
      handled(async (_options: unknown, command: Command) => {
        const connection = await resolveConnection(command.optsWithGlobals<GlobalOptions>());
        const client = await demoClient(connection);
        const { inputs } = await collectInputs([DEMO_DOCS]);
        const ok = await ingestAndReport(client, inputs);
        if (!ok) {
          process.exitCode = 1;
          return;
        }
        out('');
        out(bold('The demo is ready. Try:'));
        out('  npx minirag chat --message "How does MiniRAG keep tenants apart?"');
        out('  npx minirag chat                     # an interactive session');
        out(
          `  open ${connection.apiUrl}/   # the playground: sign in with the demo token (saved in ${configFilePath()})`,
        );
      }),
    );
}

/** The demo tenant's client: the saved demo token if it still works, else a newly created tenant. */
async function demoClient(connection: Connection): Promise<ApiClient> {
  const saved = await loadSavedCredential(connection.apiUrl);
  if (saved?.tenant?.startsWith('demo')) {
    const client = new ApiClient({ ...connection, token: saved.token });
    try {
      await client.get('/v1/tenants/me');
      note(dim(`Using the saved "${saved.tenant}" tenant.`, process.stderr));
      return client;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
  }
  const suffix = () => Math.random().toString(36).slice(2, 6);
  for (const slug of ['demo', `demo-${suffix()}`, `demo-${suffix()}`]) {
    try {
      const { created, savedIn } = await createAndSaveTenant(connection, {
        name: 'Demo',
        slug,
        email: `owner@${slug}.minirag.dev`,
      });
      out(`${bold('Demo tenant created:')} ${created.tenant.slug} (${created.tenant.id})`);
      out(`  API token: ${bold(created.api_token.token)}`);
      note(dim(`Saved as the default token for ${connection.apiUrl} in ${savedIn}.`, process.stderr));
      return new ApiClient({ ...connection, token: created.api_token.token });
    } catch (error) {
      // "demo" exists but its token is not saved here: make another demo tenant rather than fail.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
  throw new Error('Could not create a demo tenant: every slug tried is taken.');
}
