import type { Reporter, TestModule } from 'vitest/node';

/** Prints the plain closing line CI reads: `N passed, N failed` (and skipped, when any). */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let onPostgres = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        // Suites that run on both databases name the kind ($name → 'postgres'): count the real-server runs.
        if (state === 'passed' && test.fullName.includes("'postgres'")) onPostgres++;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && mod.children.size === 0) failed++;
    }
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    if (onPostgres > 0)
      process.stdout.write(
        `\n${onPostgres} of the passed tests ran on the real PostgreSQL server (DATABASE_URL)`,
      );
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
