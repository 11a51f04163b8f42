/** What every bench returns: figures, each measured against a baseline taken in the same run. */

export interface Figure {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The same-run reference the value is compared with. */
  readonly baseline: { readonly label: string; readonly value: number; readonly unit?: string };
  /** value / baseline (for latencies and sizes: how many times the baseline; for throughputs: its share). */
  readonly ratio: number;
  /** The target from the issue, in words ("≥ 5× LangChain"), and whether this run met it. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface BenchOutcome {
  readonly figures: Figure[];
  /** What was measured and what limits it: printed under the table and kept in latest.json. */
  readonly notes: string[];
  /** Raw numbers worth keeping (per-run samples, sizes, counts). */
  readonly details?: Record<string, unknown>;
}

export interface BenchContext {
  readonly quick: boolean;
  readonly repoRoot: string;
  log(line: string): void;
}

export interface Bench {
  readonly name: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

export function figure(
  metric: string,
  value: number,
  unit: string,
  baseline: Figure['baseline'],
  target?: { readonly text: string; readonly met: (value: number, ratio: number) => boolean },
): Figure {
  const ratio = baseline.value === 0 ? Number.NaN : value / baseline.value;
  return {
    metric,
    value,
    unit,
    baseline,
    ratio,
    ...(target ? { target: target.text, met: target.met(value, ratio) } : {}),
  };
}
