import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.ts';
import { ApiError } from '../client/api-error.ts';
import { collectInputs } from '../client/collect-inputs.ts';
import {
  checkProfileName,
  configFilePath,
  freeProfileName,
  type Profile,
  sameServer,
} from '../client/config-file.ts';
import {
  type Connection,
  createAndSaveTenant,
  type GlobalOptions,
  resolveConnection,
  savedProfileLines,
} from '../client/connection.ts';
import { handled } from '../render/errors.ts';
import { bold, dim, note, out } from '../render/style.ts';
import { ingestAndReport } from './ingest.ts';

const DEMO_DOCS = fileURLToPath(new URL('../../docs/demo/', import.meta.url));

/**
 * `minirag demo` (`npm run demo`): a "demo" tenant saved as the profile "demo" (or --profile's name),
 * MiniRAG's own docs ingested. It never takes over the current profile unless there was none.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'create a "demo" tenant (if missing), save it as the profile "demo", ingest docs/demo and show what to try next',
    )
    .action(
      handled(async (_options: unknown, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        const wanted = checkProfileName(options.profile ?? 'demo');
        const { connection, saved } = await demoConnection(options, wanted);
        const { client, profile, current } = await demoClient(connection, saved, wanted);
        note(
          dim(`→ tenant '${profile.tenant}' (profile '${profile.name}') at ${client.apiUrl}`, process.stderr),
        );
        const { inputs } = await collectInputs([DEMO_DOCS]);
        const ok = await ingestAndReport(client, inputs);
        if (!ok) {
          process.exitCode = 1;
          return;
        }
        const cli = current === profile.name ? 'npx minirag' : `npx minirag --profile ${profile.name}`;
        out('');
        out(bold('The demo is ready. Try:'));
        out(`  ${cli} chat --message "How does MiniRAG keep tenants apart?"`);
        out(`  ${cli} chat                     # an interactive session`);
        if (current !== profile.name)
          out(`  npx minirag profile use ${profile.name}   # make the demo the default`);
        out(
          `  open ${connection.apiUrl}/   # the playground: sign in with the demo token (profile '${profile.name}' in ${configFilePath()})`,
        );
      }),
    );
}

/** Where the demo goes: --api-url, MINIRAG_API_URL, the demo profile's server, the local server. */
async function demoConnection(options: GlobalOptions, name: string) {
  const { profile: _ignored, ...rest } = options;
  const env = { ...process.env, MINIRAG_PROFILE: '' };
  const probe = await resolveConnection(rest, env, { ignoreCurrent: true });
  const saved = probe.config.profiles[name];
  const urlGiven = options.apiUrl ?? process.env.MINIRAG_API_URL;
  if (!saved || urlGiven) return { connection: probe, saved };
  return { connection: await resolveConnection({ ...rest, profile: name }, env), saved };
}

interface DemoTarget {
  readonly client: ApiClient;
  readonly profile: { readonly name: string; readonly tenant: string };
  readonly current: string | undefined;
}

/** The demo profile's client if its token still works on this server, else a newly created demo tenant. */
async function demoClient(
  connection: Connection,
  saved: Profile | undefined,
  wanted: string,
): Promise<DemoTarget> {
  if (saved && sameServer(saved.api_url, connection.apiUrl)) {
    const client = new ApiClient({ ...connection, token: saved.token });
    try {
      await client.get('/v1/tenants/me');
      note(dim(`Using the saved profile '${wanted}'.`, process.stderr));
      return {
        client,
        profile: { name: wanted, tenant: saved.tenant ?? wanted },
        current: connection.config.current,
      };
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
  }
  const profileName = freeProfileName(connection.config, wanted, connection.apiUrl);
  const suffix = () => Math.random().toString(36).slice(2, 6);
  for (const slug of ['demo', `demo-${suffix()}`, `demo-${suffix()}`]) {
    try {
      const { created, saved: savedAs } = await createAndSaveTenant(
        connection,
        { name: 'Demo', slug, email: `owner@${slug}.minirag.dev` },
        profileName,
      );
      out(`${bold('Demo tenant created:')} ${created.tenant.slug} (${created.tenant.id})`);
      out(`  API token: ${bold(created.api_token.token)}`);
      note(`Added profile '${savedAs.name}' for tenant '${created.tenant.slug}' on ${connection.apiUrl}.`);
      for (const line of savedProfileLines(savedAs)) note(dim(line, process.stderr));
      return {
        client: new ApiClient({ ...connection, token: created.api_token.token }),
        profile: { name: savedAs.name, tenant: created.tenant.slug },
        current: savedAs.current,
      };
    } catch (error) {
      // "demo" exists but its token is not saved here: make another demo tenant rather than fail.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
  throw new Error('Could not create a demo tenant: every slug tried is taken.');
}
