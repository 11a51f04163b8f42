/**
 * Reads a test collection in the BEIR layout: `corpus.jsonl` ({ _id, title, text } per line),
 * `queries.jsonl` ({ _id, text }) and `qrels/<split>.tsv` (query-id, corpus-id, score; a header line).
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';

export interface BeirDocument {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

export interface BeirQuery {
  readonly id: string;
  readonly text: string;
}

/** query id → (document id → relevance grade). */
export type Qrels = Map<string, Map<string, number>>;

export interface BeirDataset {
  readonly name: string;
  readonly split: string;
  readonly corpus: BeirDocument[];
  readonly queries: BeirQuery[];
  readonly qrels: Qrels;
}

export interface LoadOptions {
  /** The qrels file to read; by default the only one in `qrels/`. */
  readonly split?: string | undefined;
  /**
   * Only the first N documents of the corpus. Judgements of the other documents are dropped, since no
   * system could retrieve them.
   */
  readonly limitDocs?: number | undefined;
}

const id = z.union([z.string().min(1), z.number()]).transform(String);
const DocumentLine = z.object({ _id: id, title: z.string().nullish(), text: z.string().nullish() });
const QueryLine = z.object({ _id: id, text: z.string() });

async function* lines(path: string): AsyncGenerator<{ line: string; number: number }> {
  const reader = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let number = 0;
  for await (const line of reader) {
    number++;
    if (line.trim() !== '') yield { line, number };
  }
}

async function readJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  limit = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const rows: T[] = [];
  for await (const { line, number } of lines(path)) {
    if (rows.length >= limit) break;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ValidationError(`${basename(path)} line ${number} is not JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new ValidationError(`${basename(path)} line ${number}: ${z.prettifyError(parsed.error)}`);
    }
    rows.push(parsed.data);
  }
  return rows;
}

/** The splits that have a qrels file. */
export async function qrelsSplits(dir: string): Promise<string[]> {
  const files = await readdir(join(dir, 'qrels')).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.tsv')).map((f) => f.slice(0, -'.tsv'.length));
}

async function chooseSplit(dir: string, requested: string | undefined): Promise<string> {
  const splits = await qrelsSplits(dir);
  if (requested) {
    if (!splits.includes(requested)) {
      throw new ValidationError(
        `No qrels/${requested}.tsv in ${dir} (found: ${splits.join(', ') || 'no qrels files'}).`,
      );
    }
    return requested;
  }
  if (splits.length === 1) return splits[0]!;
  throw new ValidationError(
    splits.length === 0
      ? `${dir} has no qrels/<split>.tsv file.`
      : `${dir} has several qrels files (${splits.join(', ')}): choose one with --split.`,
  );
}

async function readQrels(path: string, keepDocument: (id: string) => boolean): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { line, number } of lines(path)) {
    const [queryId, docId, score] = line.split('\t').map((f) => f.trim());
    if (number === 1 && Number.isNaN(Number(score))) continue; // the header
    const grade = Number(score);
    if (!queryId || !docId || !Number.isFinite(grade)) {
      throw new ValidationError(
        `${basename(path)} line ${number}: expected query-id<TAB>corpus-id<TAB>score`,
      );
    }
    if (!keepDocument(docId)) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(docId, grade);
    qrels.set(queryId, judged);
  }
  return qrels;
}

export async function loadBeirDataset(dir: string, options: LoadOptions = {}): Promise<BeirDataset> {
  const split = await chooseSplit(dir, options.split);
  const corpus = (await readJsonl(join(dir, 'corpus.jsonl'), DocumentLine, options.limitDocs)).map(
    (d): BeirDocument => ({ id: d._id, title: d.title ?? '', text: d.text ?? '' }),
  );
  const inCorpus = new Set(corpus.map((d) => d.id));
  if (inCorpus.size !== corpus.length) throw new ValidationError('corpus.jsonl repeats a document _id');
  const queries = (await readJsonl(join(dir, 'queries.jsonl'), QueryLine)).map(
    (q): BeirQuery => ({ id: q._id, text: q.text }),
  );
  const qrels = await readQrels(join(dir, 'qrels', `${split}.tsv`), (docId) => inCorpus.has(docId));
  return { name: basename(dir), split, corpus, queries, qrels };
}
