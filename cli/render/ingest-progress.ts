import cliProgress from 'cli-progress';
import type { IngestOutcome, IngestTotals } from '../client/ingest-runner.ts';
import { green, note, red, yellow } from './style.ts';

export interface IngestProgress {
  update(totals: IngestTotals): void;
  outcome(outcome: IngestOutcome, totals: IngestTotals): void;
  stop(): void;
}

const shorten = (label: string, width = 40) =>
  label.length > width ? `…${label.slice(-(width - 1))}` : label;

/**
 * On a terminal: a progress bar (files done/total, chunks, chunks/s, the current file) on stderr.
 * Elsewhere (CI logs, pipes): one plain line per finished document instead of redraws.
 */
export function ingestProgress(total: number): IngestProgress {
  if (!process.stderr.isTTY) {
    return {
      update() {},
      outcome(o, t) {
        const what =
          o.status === 'COMPLETED'
            ? `${o.chunks} chunks`
            : o.status === 'FAILED'
              ? `FAILED: ${o.reason}`
              : o.status === 'QUEUED'
                ? 'queued'
                : 'already ingested';
        note(`[${t.done}/${t.total}] ${o.file}: ${what}`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {bar} {value}/{total} files | {chunks} chunks | {rate} chunks/s | {current}',
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (t: IngestTotals) => ({
    chunks: t.chunks,
    rate: t.chunksPerSecond.toFixed(1),
    current: shorten(t.current),
  });
  const bar = multi.create(total, 0, payload({ done: 0, total, chunks: 0, chunksPerSecond: 0, current: '' }));
  return {
    update: (t) => bar.update(t.done, payload(t)),
    outcome(o, t) {
      if (o.status === 'FAILED') multi.log(`${red('✖')} ${o.file}: ${o.reason}\n`);
      else if (o.status === 'ALREADY INGESTED') multi.log(`${yellow('=')} ${o.file}: already ingested\n`);
      else if (o.status === 'COMPLETED') multi.log(`${green('✔')} ${o.file}: ${o.chunks} chunks\n`);
      bar.update(t.done, payload(t));
    },
    stop: () => multi.stop(),
  };
}
