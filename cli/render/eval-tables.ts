import Table from 'cli-table3';
import type { CrossValidationReport, SelectionReport } from '#shared/eval/cross-validation.ts';
import type { PairedComparison } from '#shared/eval/paired-comparison.ts';
import type { JointComparison, LexicalScoringReport } from '#shared/usecases/evaluate-retrieval.ts';

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

function selectionFolds(title: string, s: SelectionReport): string {
  const folds = table(['fold', 'chosen on the other folds', 'held-out nDCG@10', s.baseline.label, 'gain']);
  for (const f of s.perFold)
    folds.push([
      `${f.fold} (${f.testQueries} q)`,
      f.chosen,
      f3(f.testNdcg),
      f3(f.baselineNdcg),
      signed(f.gain),
    ]);
  const c = s.heldOut.comparison;
  return [
    `${title} (${s.folds} folds, seed ${s.seed}; ${s.candidates.length} candidates):`,
    folds.toString(),
    `Mean held-out gain over ${s.baseline.label}: ${signed(s.meanGain)} nDCG@10; every query held out: ${f3(s.heldOut.ndcgAt10)} ` +
      `(Recall@100 ${f3(s.heldOut.recallAt100)}) vs ${f3(s.baseline.ndcgAt10)}: ${c.wins} wins, ${c.losses} losses, ` +
      `${c.ties} ties, sign test p = ${p(c.pValue)}. ${s.repeats.seeds} other shuffles: mean gain ${signed(s.repeats.meanGain)} ` +
      `(from ${signed(s.repeats.minGain)} to ${signed(s.repeats.maxGain)}).`,
    `Chosen on the whole split: ${s.chosen.label} (nDCG@10 ${f3(s.chosen.ndcgAt10)}, Recall@100 ${f3(s.chosen.recallAt100)}).`,
  ].join('\n');
}

const against = (j: JointComparison) =>
  `Together against fusion over plain BM25, held out: per fold ${j.perFold.map((f) => signed(f.gain)).join(', ')}; ` +
  `mean ${signed(j.meanGain)}; ${j.comparison.wins} wins, ${j.comparison.losses} losses, ${j.comparison.ties} ties, ` +
  `sign test p = ${p(j.comparison.pValue)}.`;

/** The lexical scorings on the whole split, then their cross-validation alone and with the fusion. */
export function lexicalScoringTables(r: LexicalScoringReport): string {
  const candidates = table(['lexical scoring (whole split)', 'nDCG@10', 'Recall@100', 'ms/query']);
  for (const [i, c] of r.lexical.candidates.entries())
    candidates.push([
      c.label,
      f3(c.ndcgAt10),
      f3(c.recallAt100),
      r.meanQueryMs[i] ? r.meanQueryMs[i].ms.toFixed(1) : '—',
    ]);
  const j = r.jointOverFusionOnly;
  return [
    candidates.toString(),
    selectionFolds('Lexical scoring chosen by cross-validation', r.lexical),
    selectionFolds('Fusion over plain BM25 chosen by cross-validation', r.fusionOnly),
    selectionFolds('Lexical scoring and fusion chosen together', r.joint),
    against(j),
    ...r.ablations.flatMap((a) => [
      selectionFolds(`${a.name}: lexical scoring chosen by cross-validation`, a.lexical),
      selectionFolds(`${a.name}: lexical scoring and fusion chosen together`, a.joint),
      against(a.jointOverFusionOnly),
    ]),
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
