import type { AnswerTraceJson } from '../client/types.ts';
import { bold, cyan, dim, yellow } from './style.ts';

/** Candidates shown by `--explain`: the kept ones and the best of the rest. */
const SHOWN_CANDIDATES = 10;

const rankScore = (r: { rank: number; score: number } | null, digits: number) =>
  r
    ? `${String(r.rank).padStart(2)} ${r.score.toFixed(digits).padStart(digits + 3)}`
    : '  –'.padEnd(digits + 6);

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * `minirag chat --explain`: the answer's trace in a few lines — the query retrieval ran, the candidates
 * with both rankings and the fused score (kept ones with their passage number, dropped ones with why),
 * citations that pointed nowhere, and where the time went.
 */
export function explainLines(trace: AnswerTraceJson): string[] {
  const s = trace.settings;
  const rewrite =
    trace.rewrite.status === 'rewritten'
      ? `query ${cyan(`"${oneLine(trace.rewrite.query, 80)}"`)} (rewritten)`
      : `query as asked (rewrite ${trace.rewrite.status})`;
  const lines = [
    bold('Why this answer'),
    `  ${rewrite} · ${s.provider ? `${s.provider}/${s.model}` : 'extractive'} · top_k ${s.top_k}` +
      (s.score_threshold !== null ? ` · threshold ${s.score_threshold}` : '') +
      (s.tags.length ? ` · tags ${s.tags.join(',')}` : ''),
    dim('   fused          lexical       dense        kept   source'),
  ];
  const kept = trace.candidates.filter((c) => c.kept);
  const shown = [...kept, ...trace.candidates.filter((c) => !c.kept)].slice(
    0,
    Math.max(SHOWN_CANDIDATES, kept.length),
  );
  shown.sort((a, b) => (a.fused?.rank ?? 1e9) - (b.fused?.rank ?? 1e9));
  for (const c of shown) {
    const verdict = c.kept ? cyan(`[${c.passage}]`.padEnd(6)) : dim((c.dropped ?? '').padEnd(6));
    lines.push(
      `  ${rankScore(c.fused, 4)}   ${rankScore(c.lexical, 2)}   ${rankScore(c.dense, 3)}   ${verdict} ` +
        `${c.title ?? dim(c.chunk_id.slice(0, 8))}${c.snippet ? dim(` — ${oneLine(c.snippet, 50)}`) : ''}`,
    );
  }
  if (trace.candidates.length > shown.length)
    lines.push(dim(`  … ${trace.candidates.length - shown.length} more candidates`));
  lines.push(
    `  context ${trace.context.passages.length} passages, ${trace.context.tokens} tokens · cited ${
      trace.citations.used.map((n) => `[${n}]`).join(' ') || 'none'
    }` +
      (trace.citations.unknown.length
        ? yellow(` · cited but not in the context: ${trace.citations.unknown.map((n) => `[${n}]`).join(' ')}`)
        : ''),
  );
  const timings = trace.timings.map((t) => `${t.stage} ${t.ms < 10 ? t.ms.toFixed(1) : Math.round(t.ms)}`);
  lines.push(dim(`  ms: ${timings.join(' · ')} · total ${Math.round(trace.total_ms)}`));
  return lines;
}
