import Table from 'cli-table3';
import type { CrossValidationReport } from '#shared/eval/cross-validation.ts';
import type { PairedComparison } from '#shared/eval/paired-comparison.ts';

const table = (head: string[]) =>
  new Table({
    head,
    style: { head: process.stdout.isTTY && !process.env.NO_COLOR ? ['cyan'] : [], border: [] },
  });

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
const p = (x: number) => (x < 0.001 ? '< 0.001' : x.toFixed(3));

/** Every fusion candidate on the whole split, then the folds: what was chosen where, and its held-out gain. */
export function crossValidationTables(cv: CrossValidationReport): string {
  const candidates = table(['fusion candidate (whole split)', 'nDCG@10', 'Recall@100']);
  candidates.push(['lexical alone', f3(cv.lexical.ndcgAt10), f3(cv.lexical.recallAt100)]);
  candidates.push(['dense alone', f3(cv.dense.ndcgAt10), f3(cv.dense.recallAt100)]);
  for (const c of cv.candidates) candidates.push([c.label, f3(c.ndcgAt10), f3(c.recallAt100)]);
  const folds = table(['fold', 'chosen on the other folds', 'held-out nDCG@10', 'lexical', 'dense', 'gain']);
  for (const f of cv.perFold)
    folds.push([
      `${f.fold} (${f.testQueries} q)`,
      f.chosen,
      f3(f.testNdcg),
      f3(f.lexicalNdcg),
      f3(f.denseNdcg),
      signed(f.gain),
    ]);
  const c = cv.heldOut.comparison;
  return [
    candidates.toString(),
    `${cv.folds}-fold cross-validation (seed ${cv.seed}; choose the best nDCG@10 whose Recall@100 ≥ lexical on the training folds):`,
    folds.toString(),
    `Mean held-out gain over lexical: ${signed(cv.meanGain)} nDCG@10; every query held out: ${f3(cv.heldOut.ndcgAt10)} ` +
      `(Recall@100 ${f3(cv.heldOut.recallAt100)}) vs lexical ${f3(cv.lexical.ndcgAt10)}: ${c.wins} wins, ${c.losses} losses, ` +
      `${c.ties} ties, sign test p = ${p(c.pValue)}.`,
    `${cv.repeats.seeds} other shuffles: mean gain ${signed(cv.repeats.meanGain)} (from ${signed(cv.repeats.minGain)} to ${signed(cv.repeats.maxGain)}).`,
    `Chosen on the whole split: ${cv.chosen.label} (nDCG@10 ${f3(cv.chosen.ndcgAt10)}, Recall@100 ${f3(cv.chosen.recallAt100)}).`,
  ].join('\n');
}

export interface RunComparison {
  readonly label: string;
  readonly a: { ndcgAt10: number; meanQueryMs?: number | undefined };
  readonly b: { ndcgAt10: number; meanQueryMs?: number | undefined };
  readonly ndcg: PairedComparison;
}

export function comparisonTable(rows: readonly RunComparison[]): string {
  const t = table([
    'run',
    'nDCG@10 a',
    'nDCG@10 b',
    'b − a',
    'wins / losses / ties',
    'sign test p',
    'ms/query a → b',
  ]);
  const ms = (x?: number) => (x === undefined ? '—' : x.toFixed(1));
  for (const r of rows)
    t.push([
      r.label,
      f3(r.a.ndcgAt10),
      f3(r.b.ndcgAt10),
      signed(r.ndcg.meanDifference),
      `${r.ndcg.wins} / ${r.ndcg.losses} / ${r.ndcg.ties}`,
      p(r.ndcg.pValue),
      `${ms(r.a.meanQueryMs)} → ${ms(r.b.meanQueryMs)}`,
    ]);
  return t.toString();
}
