/**
 * `npm run bench [-- --quick] [-- --only chunker,api]`: every bench in its own file, run one after the
 * other in this process; a table on stdout and bench/results/latest.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { apiBench } from './api.bench.ts';
import { chatBench } from './chat.bench.ts';
import { chunkerBench } from './chunker.bench.ts';
import { ingestBench } from './ingest.bench.ts';
import { lambdaBench } from './lambda.bench.ts';
import type { Bench, BenchOutcome, Figure } from './lib/report.ts';
import { retrievalBench } from './retrieval.bench.ts';
import { widgetBench } from './widget.bench.ts';

const BENCHES: readonly Bench[] = [
  chunkerBench,
  retrievalBench,
  apiBench,
  chatBench,
  lambdaBench,
  ingestBench,
  widgetBench,
];
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const only = values.only?.split(',').map((s) => s.trim());
const selected = BENCHES.filter((b) => !only || only.includes(b.name));
if (selected.length === 0) {
  process.stderr.write(
    `No bench named ${values.only}; choose from ${BENCHES.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}

const format = (value: number, unit: string) => {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
};

const results: (BenchOutcome & { name: string; seconds: number })[] = [];
// Other processes on the machine skew every figure; the load average says how busy it was.
const loadAtStart = loadavg();
const started = performance.now();
for (const bench of selected) {
  process.stderr.write(`▶ ${bench.name}\n`);
  const start = performance.now();
  const outcome = await bench.run({
    quick: values.quick,
    repoRoot,
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  const seconds = (performance.now() - start) / 1000;
  results.push({ name: bench.name, seconds, ...outcome });
  process.stderr.write(`  done in ${seconds.toFixed(1)} s\n`);
}
const totalSeconds = (performance.now() - started) / 1000;

const table = new Table({
  head: ['bench', 'metric', 'value', 'baseline (same run)', 'ratio', 'target'],
  style: { head: process.stdout.isTTY && !process.env.NO_COLOR ? ['cyan'] : [], border: [] },
  colWidths: [11, 44, 14, 44, 9, 30],
  wordWrap: true,
});
const targetCell = (f: Figure) => (f.target ? `${f.met ? 'met' : 'NOT met'}: ${f.target}` : '');
for (const r of results) {
  for (const f of r.figures) {
    table.push([
      r.name,
      f.metric,
      format(f.value, f.unit),
      `${f.baseline.label}: ${format(f.baseline.value, f.baseline.unit ?? f.unit)}`,
      `${f.ratio.toFixed(2)}×`,
      targetCell(f),
    ]);
  }
}
process.stdout.write(`${table.toString()}\n`);
for (const r of results) {
  process.stdout.write(`\n${r.name} (${r.seconds.toFixed(1)} s)\n`);
  for (const note of r.notes) process.stdout.write(`  - ${note}\n`);
}
process.stdout.write(
  `\nTotal ${totalSeconds.toFixed(1)} s${values.quick ? ' (--quick)' : ''}; load average ${loadAtStart[0]?.toFixed(1)} → ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs\n`,
);

const resultsDir = join(repoRoot, 'bench', 'results');
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'latest.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      quick: values.quick,
      totalSeconds,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
      },
      benches: results,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`Written to bench/results/latest.json\n`);
// PGlite and HTTP keep-alive sockets may hold the loop open; every bench has closed what it started.
process.exit(0);
