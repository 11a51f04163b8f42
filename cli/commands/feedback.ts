import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../client/api-error.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import type { RatedAnswerJson } from '../client/types.ts';
import { handled } from '../render/errors.ts';
import { dim, note, out } from '../render/style.ts';

interface ExportOptions {
  readonly bot: string;
  readonly format: string;
}

/**
 * The BEIR layout `minirag eval` reads: each down-rated question is a query, the passages its answer
 * cited are the corpus, and the qrels mark them relevant. They are the passages the bot *used*: curate
 * the qrels (drop the wrong ones, add the right documents to the corpus) before evaluating.
 */
export function beirFiles(rated: readonly RatedAnswerJson[]) {
  const corpus = new Map<string, { _id: string; title: string; text: string }>();
  const queries: { _id: string; text: string; metadata: Record<string, unknown> }[] = [];
  const qrels: string[] = ['query-id\tcorpus-id\tscore'];
  for (const r of rated) {
    if (!r.question.trim()) continue;
    queries.push({
      _id: r.message_id,
      text: r.question,
      metadata: { rating: r.rating, comment: r.comment, query: r.query, answer: r.answer },
    });
    for (const p of r.passages) {
      corpus.set(p.chunk_id, { _id: p.chunk_id, title: p.title, text: p.text });
      qrels.push(`${r.message_id}\t${p.chunk_id}\t1`);
    }
  }
  const jsonl = (rows: readonly unknown[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  return {
    'corpus.jsonl': jsonl([...corpus.values()]),
    'queries.jsonl': jsonl(queries),
    'qrels/test.tsv': `${qrels.join('\n')}\n`,
    queries: queries.length,
    documents: corpus.size,
  };
}

/** `minirag feedback export`: turns an answer's "down" ratings into an evaluation set. */
export function registerFeedback(program: Command): void {
  const feedback = program.command('feedback').description('ratings readers gave to answers');
  feedback
    .command('export <dir>')
    .description(
      'write a bot\'s "down"-rated questions and the passages they cited as a BEIR set (for minirag eval)',
    )
    .requiredOption('--bot <id>', 'the bot whose ratings to export')
    .option('--format <format>', 'beir (the only format)', 'beir')
    .action(
      handled(async (dir: string, options: ExportOptions, command: Command) => {
        if (options.format !== 'beir') throw new UsageError('--format must be beir.');
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note);
        const rated = await client.all<RatedAnswerJson>('/v1/feedback', {
          bot_id: options.bot,
          rating: 'down',
        });
        const files = beirFiles(rated);
        const root = resolve(dir);
        await mkdir(join(root, 'qrels'), { recursive: true });
        for (const name of ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv'] as const)
          await writeFile(join(root, name), files[name]);
        out(`${files.queries} down-rated questions, ${files.documents} cited passages → ${root}`);
        const stale = rated.flatMap((r) => r.passages).filter((p) => !p.current).length;
        if (stale > 0)
          note(dim(`${stale} passages changed since they were cited: their text is the snippet.`));
        note(
          dim(
            'Curate qrels/test.tsv (these are the passages the bot used), then: minirag eval --dataset <dir>',
          ),
        );
      }),
    );
}
