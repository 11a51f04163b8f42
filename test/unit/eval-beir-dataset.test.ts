import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/domain/errors.ts';
import { loadBeirDataset } from '#shared/eval/beir-dataset.ts';

let dir: string;

async function writeDataset(qrels: Record<string, string>) {
  await mkdir(join(dir, 'qrels'));
  await writeFile(
    join(dir, 'corpus.jsonl'),
    [
      JSON.stringify({ _id: 'd1', title: 'Wings', text: 'lift and drag' }),
      JSON.stringify({ _id: 2, title: '', text: 'boundary layers' }),
      '',
      JSON.stringify({ _id: 'd3', text: 'shock waves' }),
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'queries.jsonl'),
    `${JSON.stringify({ _id: 'q1', text: 'lift?' })}\n${JSON.stringify({ _id: 'q2', text: 'shock?' })}\n`,
  );
  for (const [split, text] of Object.entries(qrels))
    await writeFile(join(dir, 'qrels', `${split}.tsv`), text);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadBeirDataset', () => {
  it('when there is one qrels file then it is the split, the header is skipped and ids are strings', async () => {
    await writeDataset({ dev: 'query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\t2\t1\nq2\td3\t4\n' });
    const dataset = await loadBeirDataset(dir);
    expect(dataset.split).toBe('dev');
    expect(dataset.corpus).toEqual([
      { id: 'd1', title: 'Wings', text: 'lift and drag' },
      { id: '2', title: '', text: 'boundary layers' },
      { id: 'd3', title: '', text: 'shock waves' },
    ]);
    expect(dataset.queries.map((q) => q.id)).toEqual(['q1', 'q2']);
    expect(dataset.qrels.get('q1')).toEqual(
      new Map([
        ['d1', 2],
        ['2', 1],
      ]),
    );
  });

  it('when the corpus is limited then judgements of documents left out are dropped', async () => {
    await writeDataset({ dev: 'q1\td1\t2\nq2\td3\t4\n' });
    const dataset = await loadBeirDataset(dir, { limitDocs: 2 });
    expect(dataset.corpus).toHaveLength(2);
    expect(dataset.qrels.get('q1')?.get('d1')).toBe(2);
    expect(dataset.qrels.has('q2')).toBe(false);
  });

  it('when there are several qrels files then a split must be chosen', async () => {
    await writeDataset({ dev: 'q1\td1\t1\n', test: 'q2\td3\t1\n' });
    await expect(loadBeirDataset(dir)).rejects.toThrow(/several qrels files.*--split/);
    expect((await loadBeirDataset(dir, { split: 'test' })).qrels.has('q2')).toBe(true);
    await expect(loadBeirDataset(dir, { split: 'train' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('when a line is not valid then the error names the file and line', async () => {
    await writeDataset({ dev: 'q1\td1\t1\n' });
    await writeFile(join(dir, 'queries.jsonl'), '{"_id": "q1", "text": "ok"}\n{"_id": "q2"}\n');
    await expect(loadBeirDataset(dir)).rejects.toThrow(/queries\.jsonl line 2/);
  });
});
