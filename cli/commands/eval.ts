import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { authenticate } from '#shared/auth/authenticate.ts';
import { buildLocalPlatform } from '#shared/composition/local.ts';
import { rerankerFactory } from '#shared/composition/reranker.ts';
import { loadConfig } from '#shared/config/load.ts';
import { RERANK_PROVIDERS, type RerankProvider } from '#shared/domain/bot.ts';
import { loadBeirDataset } from '#shared/eval/beir-dataset.ts';
import { comparePaired } from '#shared/eval/paired-comparison.ts';
import { lexicalScoringCandidates } from '#shared/usecases/answering/retrieve-context.ts';
import {
  type EvaluationReport,
  evaluateRetrieval,
  rerankRun,
  STANDARD_RUNS,
} from '#shared/usecases/evaluate-retrieval.ts';
import { createTenant } from '#shared/usecases/tenants.ts';
import { handled } from '../render/errors.ts';
import {
  comparisonTable,
  crossValidationTables,
  lexicalScoringTables,
  type RunComparison,
} from '../render/eval-tables.ts';
import { bold, dim, note, out, yellow } from '../render/style.ts';
import { createLocalServer } from '../server/local-server.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_DATASET = resolve(REPO_ROOT, '../shared/data/cranfield');

/** The plain BM25 figures published with the Cranfield dev split (whole corpus), for comparison. */
const CRANFIELD_BM25 = { ndcgAt10: 0.351, recallAt100: 0.71 };

interface EvalOptions {
  readonly dataset: string;
  readonly split?: string;
  readonly limitDocs?: string;
  readonly json?: string;
  readonly cv?: string;
  readonly compare?: string[];
  readonly rerank?: string;
}

/** `bedrock:amazon.rerank-v1:0` or `cohere:rerank-v3.5` → the rerank settings. */
export function parseRerankOption(value: string): { provider: RerankProvider; model: string } {
  const colon = value.indexOf(':');
  const provider = value.slice(0, colon);
  const model = value.slice(colon + 1);
  if (colon < 0 || !(RERANK_PROVIDERS as readonly string[]).includes(provider) || !model) {
    throw new Error(
      `--rerank takes <provider>:<model> with provider ${RERANK_PROVIDERS.join(' or ')}, e.g. bedrock:amazon.rerank-v1:0`,
    );
  }
  return { provider: provider as RerankProvider, model };
}

/**
 * `minirag eval` (`npm run eval`): retrieval quality of the real pipeline on a BEIR collection, in a
 * throw-away embedded database (or a fresh tenant of DATABASE_URL).
 */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('measure retrieval quality (nDCG@10, Recall@10/100) on a BEIR-format test collection')
    .option(
      '--dataset <dir>',
      'BEIR directory: corpus.jsonl, queries.jsonl, qrels/<split>.tsv',
      DEFAULT_DATASET,
    )
    .option('--split <name>', 'qrels split (default: the only qrels file present)')
    .option('--limit-docs <n>', 'ingest only the first N documents (judgements of the others are dropped)')
    .option('--json <file>', 'also write the full report as JSON (with per-query nDCG)')
    .option(
      '--cv <folds>',
      'also cross-validate the fusion method and weight, and the lexical scoring (title weight, RM3), over k folds of the queries',
    )
    .option('--compare <files...>', 'compare two --json reports query by query (wins/losses/ties, sign test)')
    .option(
      '--rerank <provider:model>',
      'also score hybrid retrieval reordered by a rerank model, e.g. bedrock:amazon.rerank-v1:0 or cohere:rerank-v3.5',
    )
    .action(
      handled((options: EvalOptions) =>
        options.compare ? compareReports(options.compare) : runEval(options),
      ),
    );
}

async function runEval(options: EvalOptions): Promise<void> {
  const started = performance.now();
  const limitDocs = options.limitDocs === undefined ? undefined : Number(options.limitDocs);
  if (limitDocs !== undefined && !(Number.isInteger(limitDocs) && limitDocs > 0)) {
    throw new Error('--limit-docs must be a positive whole number');
  }
  const folds = options.cv === undefined ? undefined : Number(options.cv);
  if (folds !== undefined && !(Number.isInteger(folds) && folds >= 2 && folds <= 20)) {
    throw new Error('--cv must be a whole number of folds from 2 to 20');
  }
  const rerank = options.rerank === undefined ? undefined : parseRerankOption(options.rerank);
  const dir = resolve(options.dataset);
  const dataset = await loadBeirDataset(dir, { split: options.split, limitDocs });
  note(
    `${dataset.name}: ${dataset.corpus.length} documents, ${dataset.queries.length} queries, split ${dataset.split}`,
  );

  // A throw-away data directory: PGlite lives there unless DATABASE_URL names a server.
  const dataDir = await mkdtemp(join(tmpdir(), 'minirag-eval-'));
  const config = loadConfig({
    ...process.env,
    MINIRAG_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  });
  const platform = await buildLocalPlatform(config, 'minirag-eval');
  const { worker } = createLocalServer(platform);
  worker.start();
  try {
    const slug = `eval-${randomBytes(4).toString('hex')}`;
    const created = await createTenant(platform.db, {
      name: `Evaluation ${dataset.name}`,
      slug,
      ownerEmail: `owner@${slug}.eval.invalid`,
    });
    const principal = await authenticate(created.apiToken.secret, { db: platform.db, ...platform.secrets });
    if (principal.kind !== 'tenant') throw new Error('The evaluation tenant did not authenticate');
    note(
      dim(
        `Tenant ${slug} in ${config.DATABASE_URL ? 'DATABASE_URL' : `PGlite (${dataDir})`}, embedder ${platform.embedder.space.provider}/${platform.embedder.space.model}`,
        process.stderr,
      ),
    );

    const report = await evaluateRetrieval(
      principal.auth,
      dataset,
      {
        runs: rerank ? [...STANDARD_RUNS, rerankRun(rerank)] : STANDARD_RUNS,
        onQueryProgress: (run, done, total) => {
          if (done === total) note(dim(`  ${run.label}: ${total} queries`, process.stderr));
        },
        ...(folds ? { crossValidation: { folds, lexicalScorings: lexicalScoringCandidates() } } : {}),
      },
      {
        ...platform,
        embeddingSpace: platform.embedder.space,
        rerankerFor: rerankerFactory(config, platform.providerKeys.cohere),
        waitForIngest: () => worker.idle(),
        onProgress: ({ phase, done, total }) => note(dim(`  ${phase} ${done}/${total}`, process.stderr)),
      },
    );
    const reference =
      dataset.name === 'cranfield' && dataset.split === 'dev' && limitDocs === undefined
        ? CRANFIELD_BM25
        : undefined;
    printReport(report, reference, (performance.now() - started) / 1000);
    if (options.json) {
      await writeFile(options.json, `${JSON.stringify({ ...report, reference }, null, 2)}\n`);
      note(dim(`Report written to ${options.json}`, process.stderr));
    }
  } finally {
    await worker.stop(2_000);
    await platform.db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const f3 = (x: number) => x.toFixed(3);

function printReport(
  report: EvaluationReport,
  reference: typeof CRANFIELD_BM25 | undefined,
  totalSeconds: number,
): void {
  const { ingest, queries } = report;
  out('');
  out(
    bold(
      `Retrieval on ${report.dataset.name} (${report.dataset.split}): ${queries.evaluated} queries, ${ingest.sources} sources, ${ingest.chunks} chunks`,
    ),
  );
  const table = new Table({
    head: ['run', 'nDCG@10', 'Recall@10', 'Recall@100', 'ms/query', 'query time'],
    style: { head: process.stdout.isTTY && !process.env.NO_COLOR ? ['cyan'] : [], border: [] },
  });
  if (reference)
    table.push([
      'BM25 reference (data README)',
      f3(reference.ndcgAt10),
      '—',
      f3(reference.recallAt100),
      '—',
      '—',
    ]);
  for (const r of report.runs) {
    table.push([
      r.run.label,
      f3(r.ndcgAt10),
      f3(r.recallAt10),
      f3(r.recallAt100),
      r.meanQueryMs.toFixed(1),
      `${r.seconds.toFixed(1)} s`,
    ]);
  }
  out(table.toString());
  const skipped = [
    `${queries.skippedNoRelevant} queries skipped (no relevant judgement)`,
    queries.judgedWithoutText > 0
      ? `${queries.judgedWithoutText} judged query ids missing from queries.jsonl`
      : '',
    ingest.emptyDocuments.length > 0
      ? `${ingest.emptyDocuments.length} empty documents not ingested (${ingest.emptyDocuments.join(', ')})`
      : '',
    ingest.duplicateDocuments.length > 0
      ? `${ingest.duplicateDocuments.length} duplicate documents share a source (${ingest.duplicateDocuments.join(', ')})`
      : '',
    ingest.failed.length > 0 ? yellow(`${ingest.failed.length} sources FAILED to ingest`) : '',
  ].filter(Boolean);
  out(dim(skipped.join('; ')));
  const short = report.runs.filter((r) => r.shortRankings > 0);
  for (const r of short) out(dim(`${r.run.label}: ${r.shortRankings} queries had fewer than 100 documents`));
  out(
    `Embedder ${report.embedding.provider}/${report.embedding.model} (${report.embedding.dimensions} dims); ` +
      `nDCG with linear gains; documents ranked by their best chunk (top ${report.runs[0]?.run.topK ?? 0} chunks).`,
  );
  out(`Ingest ${ingest.seconds.toFixed(1)} s; total ${totalSeconds.toFixed(1)} s.`);
  if (report.crossValidation) out(crossValidationTables(report.crossValidation));
  if (report.lexicalScoring) out(lexicalScoringTables(report.lexicalScoring));
  const hybrid = report.runs.find((r) => r.run.mode === 'hybrid');
  if (reference && hybrid && hybrid.ndcgAt10 < reference.ndcgAt10) {
    out(
      yellow(`Hybrid nDCG@10 ${f3(hybrid.ndcgAt10)} is below the BM25 reference ${f3(reference.ndcgAt10)}.`),
    );
  }
}

interface SavedRun {
  readonly run: { readonly label: string; readonly mode: string };
  readonly ndcgAt10: number;
  readonly meanQueryMs?: number;
  readonly perQuery?: readonly { readonly id: string; readonly ndcgAt10: number }[];
}

async function readReport(file: string): Promise<SavedRun[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not a readable JSON report: ${(error as Error).message}`);
  }
  const runs = (parsed as { runs?: unknown }).runs;
  if (!Array.isArray(runs))
    throw new Error(`${file} has no "runs": write it with npm run eval -- --json ${file}`);
  return runs as SavedRun[];
}

/** `--compare a.json b.json`: the runs both reports hold (matched by mode), query by query. */
async function compareReports(files: readonly string[]): Promise<void> {
  if (files.length !== 2)
    throw new Error('--compare takes exactly two report files: --compare a.json b.json');
  const [a, b] = await Promise.all(files.map((f) => readReport(f)));
  const rows: RunComparison[] = [];
  for (const before of a ?? []) {
    const after = (b ?? []).find((r) => r.run.mode === before.run.mode);
    if (!after) continue;
    if (!before.perQuery || !after.perQuery)
      throw new Error(
        'A report has no per-query figures (written before --json included them); re-run the eval',
      );
    rows.push({
      label: before.run.mode,
      a: { ndcgAt10: before.ndcgAt10, meanQueryMs: before.meanQueryMs },
      b: { ndcgAt10: after.ndcgAt10, meanQueryMs: after.meanQueryMs },
      ndcg: comparePaired(
        new Map(before.perQuery.map((q) => [q.id, q.ndcgAt10])),
        new Map(after.perQuery.map((q) => [q.id, q.ndcgAt10])),
      ),
    });
  }
  if (rows.length === 0) throw new Error('The two reports share no run');
  out(bold(`a = ${files[0]}, b = ${files[1]}; a win is a query where b scores higher`));
  out(comparisonTable(rows));
}
