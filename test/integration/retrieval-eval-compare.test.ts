import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_LINE } from '#test/e2e/cli-process.ts';
import { removeDir, tempDir } from '#test/e2e/server-process.ts';

/** `minirag eval --compare a.json b.json` through the real binary, on reports written as --json writes them. */
describe('minirag eval --compare', { timeout: 180_000 }, () => {
  let work: string;
  const report = (lexical: number[], hybrid: number[]) => ({
    runs: [
      {
        run: { label: 'lexical (PostgreSQL full text)', mode: 'lexical' },
        ndcgAt10: lexical.reduce((a, b) => a + b, 0) / lexical.length,
        meanQueryMs: 12.5,
        perQuery: lexical.map((n, i) => ({ id: `q${i}`, ndcgAt10: n, recallAt100: 1, ms: 12.5 })),
      },
      {
        run: { label: 'hybrid (fused)', mode: 'hybrid' },
        ndcgAt10: hybrid.reduce((a, b) => a + b, 0) / hybrid.length,
        meanQueryMs: 20,
        perQuery: hybrid.map((n, i) => ({ id: `q${i}`, ndcgAt10: n, recallAt100: 1, ms: 20 })),
      },
    ],
  });
  const cli = (args: string[]) => runCli(['eval', ...args], { home: work, cwd: work });

  beforeAll(async () => {
    work = await tempDir('minirag-eval-compare-');
    const tenQueries = Array.from({ length: 10 }, () => 0.5);
    await writeFile(join(work, 'a.json'), JSON.stringify(report(tenQueries, tenQueries)));
    // b: lexical identical; hybrid better on all ten queries.
    await writeFile(
      join(work, 'b.json'),
      JSON.stringify(
        report(
          tenQueries,
          tenQueries.map((n) => n + 0.1),
        ),
      ),
    );
    await writeFile(
      join(work, 'old.json'),
      JSON.stringify({ runs: [{ run: { mode: 'lexical' }, ndcgAt10: 0.3 }] }),
    );
    await writeFile(join(work, 'broken.json'), '{ not json');
  });

  afterAll(async () => removeDir(work));

  it('when two reports are compared, then each shared run shows wins/losses/ties and the sign test', async () => {
    const r = await cli(['--compare', 'a.json', 'b.json']);
    expect(r.code).toBe(0);
    const lexical = r.stdout.split('\n').find((l) => l.includes('│ lexical'));
    const hybrid = r.stdout.split('\n').find((l) => l.includes('│ hybrid'));
    expect(lexical).toMatch(/0 \/ 0 \/ 10 .*│ 1\.000 /);
    // Ten wins and no loss: two-sided p = 2 × 0.5^10 = 0.002.
    expect(hybrid).toMatch(/\+0\.100 .*10 \/ 0 \/ 0 .*│ 0\.002 .*20\.0 → 20\.0/);
  });

  it('when a report lacks per-query figures or is not JSON, then the CLI says so without a stack trace', async () => {
    const [old, broken, one] = await Promise.all([
      cli(['--compare', 'a.json', 'old.json']),
      cli(['--compare', 'a.json', 'broken.json']),
      cli(['--compare', 'a.json']),
    ]);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/per-query/);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/broken\.json is not a readable JSON report/);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toMatch(/exactly two report files/);
    for (const r of [old, broken, one]) expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
