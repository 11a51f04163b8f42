import cliProgress from 'cli-progress';
import type { IngestOutcome, IngestTotals } from '../client/ingest-runner.ts';
import { green, note, red, yellow } from './style.ts';

export interface IngestProgress {
  update(totals: IngestTotals): void;
  /** Bytes of a file uploaded so far: a bar of its own for large files. */
  upload(file: string, sent: number, total: number): void;
  outcome(outcome: IngestOutcome, totals: IngestTotals): void;
  stop(): void;
}

/** Files from this size get a byte progress bar while they upload. */
const LARGE_FILE_BYTES = 5 * 1024 * 1024;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const shorten = (label: string, width = 40) =>
  label.length > width ? `…${label.slice(-(width - 1))}` : label;

/**
 * On a terminal: a progress bar (files done/total, chunks, chunks/s, the current file) on stderr.
 * Elsewhere (CI logs, pipes): one plain line per finished document instead of redraws.
 */
export function ingestProgress(total: number): IngestProgress {
  if (!process.stderr.isTTY) {
    const reported = new Map<string, number>();
    return {
      update() {},
      upload(file, sent, total) {
        if (total < LARGE_FILE_BYTES) return;
        // A line per quarter, not per chunk: logs stay readable.
        const quarter = Math.floor((sent / total) * 4);
        if ((reported.get(file) ?? -1) >= quarter) return;
        reported.set(file, quarter);
        note(`${file}: uploaded ${mb(sent)} of ${mb(total)} MB`);
      },
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
  const uploads = new Map<string, cliProgress.SingleBar>();
  return {
    update: (t) => bar.update(t.done, payload(t)),
    upload(file, sent, total) {
      if (total < LARGE_FILE_BYTES) return;
      let upload = uploads.get(file);
      if (!upload) {
        upload = multi.create(
          total,
          0,
          { file: shorten(file), sentMb: '0.0', totalMb: mb(total) },
          {
            format: ' {bar} {percentage}% | {sentMb}/{totalMb} MB uploaded | {file}',
          },
        );
        uploads.set(file, upload);
      }
      upload.update(sent, { sentMb: mb(sent) });
      if (sent >= total) {
        multi.remove(upload);
        uploads.delete(file);
      }
    },
    outcome(o, t) {
      if (o.status === 'FAILED') multi.log(`${red('✖')} ${o.file}: ${o.reason}\n`);
      else if (o.status === 'ALREADY INGESTED') multi.log(`${yellow('=')} ${o.file}: already ingested\n`);
      else if (o.status === 'COMPLETED') multi.log(`${green('✔')} ${o.file}: ${o.chunks} chunks\n`);
      bar.update(t.done, payload(t));
    },
    stop: () => multi.stop(),
  };
}
