import type { Command } from 'commander';
import type { ApiClient } from '../client/api-client.ts';
import { collectInputs, type IngestInput, SUPPORTED_EXTENSIONS } from '../client/collect-inputs.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import { type IngestOutcome, type IngestRunOptions, runIngest } from '../client/ingest-runner.ts';
import { handled } from '../render/errors.ts';
import { ingestProgress } from '../render/ingest-progress.ts';
import { bold, dim, green, note, out, red } from '../render/style.ts';
import { ingestSummaryTable } from '../render/tables.ts';

interface IngestOptions {
  readonly tags?: string;
  readonly wait: boolean;
  readonly timeout: string;
}

const EXTENSIONS = Object.keys(SUPPORTED_EXTENSIONS)
  .map((e) => e.slice(1))
  .join(', ');

/** `minirag ingest <file|folder|url>...`: upload, wait for COMPLETED/FAILED, summarise; exit 1 if any failed. */
export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(`add documents to the knowledge base: files, folders (recursive; ${EXTENSIONS}) or URLs`)
    .argument('<paths...>', 'files, folders or http(s) URLs')
    .option('--tags <list>', 'comma-separated tags for every document')
    .option('--no-wait', 'upload and return without waiting for ingestion')
    .option('--timeout <seconds>', 'stop waiting after this long', '900')
    .action(
      handled(async (paths: string[], options: IngestOptions, command: Command) => {
        const { inputs, ignored } = await collectInputs(paths);
        if (ignored.length > 0) {
          note(
            dim(
              `Ignored ${ignored.length} file(s) with unsupported extensions: ${ignored.join(', ')}`,
              process.stderr,
            ),
          );
        }
        if (inputs.length === 0) {
          note(`Nothing to ingest: no ${EXTENSIONS} files in ${paths.join(' ')}.`);
          process.exitCode = 1;
          return;
        }
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        const ok = await ingestAndReport(client, inputs, {
          tags: options.tags
            ?.split(',')
            .map((t) => t.trim())
            .filter(Boolean),
          wait: options.wait,
          timeoutMs: Number(options.timeout) * 1000,
        });
        if (!ok) process.exitCode = 1;
        else if (options.wait) out(dim('Next: npx minirag chat'));
      }),
    );
}

/** Runs an ingest with the progress display, prints the summary table; false if any document failed. */
export async function ingestAndReport(
  client: ApiClient,
  inputs: readonly IngestInput[],
  options: Pick<IngestRunOptions, 'tags' | 'wait' | 'timeoutMs'> = {},
): Promise<boolean> {
  note(`Ingesting ${inputs.length} document(s) into ${client.apiUrl}…`);
  const progress = ingestProgress(inputs.length);
  const started = Date.now();
  let outcomes: IngestOutcome[];
  try {
    outcomes = await runIngest(client, inputs, {
      ...options,
      onProgress: (t) => progress.update(t),
      onUploadBytes: (file, sent, total) => progress.upload(file, sent, total),
      onOutcome: (o, t) => progress.outcome(o, t),
    });
  } finally {
    progress.stop();
  }

  out(ingestSummaryTable(outcomes));
  const count = (status: IngestOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const failed = count('FAILED');
  const chunks = outcomes.reduce((n, o) => n + ('chunks' in o ? (o.chunks ?? 0) : 0), 0);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const parts = [
    green(`${count('COMPLETED')} completed`),
    `${count('ALREADY INGESTED')} already ingested`,
    ...(count('QUEUED') ? [`${count('QUEUED')} queued`] : []),
    failed ? red(`${failed} failed`) : '0 failed',
  ];
  out(`${bold('Summary:')} ${parts.join(', ')} — ${chunks} chunks in ${seconds} s`);
  return failed === 0;
}
