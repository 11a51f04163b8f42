import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import { buildLocalPlatform } from '#shared/composition/local.ts';
import { checkReadiness } from '#shared/composition/readiness.ts';
import { SECRETS_FILE } from '#shared/config/key-file.ts';
import { loadConfig } from '#shared/config/load.ts';
import { serviceUnavailableIn } from '#shared/domain/errors.ts';
import { requeueAbandonedJobs } from '#shared/repositories/jobs.ts';
import { DEFAULT_API_URL } from '../client/connection.ts';
import { removeLocalServerFile, writeLocalServerFile } from '../client/local-server-file.ts';
import { createLocalServer } from '../server/local-server.ts';

/** `minirag serve` (what `npm start` runs): API + streaming chat + playground + ingest worker, one process. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run MiniRAG locally: API, streaming chat, web playground and ingest worker in one process')
    .option('-p, --port <port>', 'port to listen on (default: PORT or 8787)')
    .action(async (options: { port?: string }) => {
      const config = loadConfig({ ...process.env, ...(options.port ? { PORT: options.port } : {}) });
      const platform = await buildLocalPlatform(config, 'minirag-local').catch((error: unknown) =>
        refuseToStart([
          serviceUnavailableIn(error)
            ? `database: ${(error as Error).message} Check DATABASE_URL and that the server is running.`
            : `database: ${error instanceof Error ? error.message : String(error)}`,
        ]),
      );
      const report = await checkReadiness(platform);
      if (!report.ready) {
        await platform.db.close().catch(() => {});
        refuseToStart(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`));
      }
      const { app, worker, sweeper } = createLocalServer(platform);
      if (platform.db.kind === 'pglite') {
        // This process owns the data directory: jobs left running were cut off by a crash or a kill.
        const resumed = await platform.db.withSystem((tx) => requeueAbandonedJobs(tx));
        if (resumed > 0)
          process.stdout.write(`Resuming ${resumed} ingest job(s) interrupted by the last shutdown.\n`);
      }
      worker.start();
      sweeper.start();
      const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '127.0.0.1' }, (info) => {
        const url = `http://localhost:${info.port}`;
        // The CLI beside this server reads the URL from here; elsewhere the printed flag says it.
        void writeLocalServerFile(config.MINIRAG_DATA_DIR, url).catch(() => {});
        const cli = url === DEFAULT_API_URL ? 'npx minirag' : `npx minirag --api-url ${url}`;
        const adminSource = config.ADMIN_TOKEN
          ? 'the ADMIN_TOKEN environment variable'
          : resolve(join(config.MINIRAG_DATA_DIR, SECRETS_FILE));
        process.stdout.write(
          [
            `MiniRAG is running at ${url}`,
            `  playground:   ${url}/`,
            `  API docs:     ${url}/docs`,
            `  database:     ${config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${resolve(config.MINIRAG_DATA_DIR)}`}`,
            `  embeddings:   ${platform.embedder.space.provider}/${platform.embedder.space.model}`,
            `  admin token:  in ${adminSource} (adminToken)`,
            '',
            'Next, in another terminal:',
            `  ${cli} ingest ./docs && ${cli} chat`,
            '',
          ].join('\n'),
        );
      });

      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        process.stdout.write(`\n${signal}: finishing in-flight ingest jobs…\n`);
        server.close();
        sweeper.stop();
        await removeLocalServerFile(config.MINIRAG_DATA_DIR);
        // Running jobs get 10 s to finish; unfinished ones go back to the queue and resume on next start.
        await worker.stop(10_000);
        await platform.db.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });
}

/** A failed startup check: one readable line per problem (each names its remedy), then exit 1. */
function refuseToStart(problems: readonly string[]): never {
  process.stderr.write(`MiniRAG cannot start:\n${problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(1);
}
