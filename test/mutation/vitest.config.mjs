// @ts-check
import { tmpdir } from 'node:os';
import { defineConfig } from 'vitest/config';
import { MUTATION_GROUPS } from './groups.mjs';

// The test files StrykerJS runs: only those guarding the groups being mutated (all of them by default),
// so each mutant costs seconds rather than a whole suite run.
const wanted = process.env.MUTATE_GROUP;
const groups = MUTATION_GROUPS.filter((g) => !wanted || g.name === wanted);
// MUTATE_TESTS narrows further, to some of the group's test files (with MUTATE_FILES, see stryker.config.mjs).
const only = process.env.MUTATE_TESTS?.split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: only ?? [...new Set(groups.flatMap((g) => g.tests))],
    exclude: ['node_modules/**'],
    // A mutation run shares the machine with its own parallel runners: setting up a database can be slow.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Each mutant's run starts its test databases from a migrated PGlite snapshot (test/fixtures/databases.ts).
    env: { MINIRAG_TEST_PGLITE_SNAPSHOTS: tmpdir() },
  },
});
