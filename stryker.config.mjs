// @ts-check
// `npm run mutate`: mutation testing of the security-critical modules (see docs/testing.md). Not part of
// `npm test`: it takes minutes, and its score is a measurement, not a gate.
//   npm run mutate                         every group, one after another (incremental: reruns only what changed)
//   MUTATE_GROUP=auth npm run mutate       one group (auth, tenancy, vectors, keys, ssrf, quota)
//   MUTATE_GROUP=tenancy MUTATE_FILES=shared/repositories/sources.ts npm run mutate
//                                          part of a group, remembered in the group's incremental file: widen
//                                          it file by file (the incremental file keeps the other files' results)
//   MUTATE_TESTS=test/unit/a.test.ts,…     only these of the group's test files
import { fileURLToPath } from 'node:url';
import { MUTATION_GROUPS } from './test/mutation/groups.mjs';

// The tests run in a copy of the repository under .stryker-tmp/, where `../shared` is not beside it.
process.env.QDRANT_OPENAPI_PATH ??= fileURLToPath(
  new URL('../shared/vendor/qdrant/openapi.json', import.meta.url),
);

const wanted = process.env.MUTATE_GROUP;
const groups = wanted ? MUTATION_GROUPS.filter((g) => g.name === wanted) : MUTATION_GROUPS;
if (groups.length === 0)
  throw new Error(`Unknown MUTATE_GROUP ${wanted}: one of ${MUTATION_GROUPS.map((g) => g.name)}`);
const suffix = wanted ?? 'all';
const only = process.env.MUTATE_FILES?.split(',').filter(Boolean);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'test/mutation/vitest.config.mjs', related: false },
  mutate: only ?? groups.flatMap((g) => g.mutate),
  coverageAnalysis: 'perTest',
  // Two cores, shared: one vitest worker per core.
  concurrency: 2,
  timeoutMS: 30_000,
  // The first run of the DB-backed groups sets up many databases; on a loaded machine that passes 5 minutes.
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: `reports/mutation/incremental-${suffix}.json`,
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: `reports/mutation/${suffix}.html` },
  jsonReporter: { fileName: `reports/mutation/${suffix}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  ignorePatterns: ['cdk.out', 'dist', '.minirag', 'bench/results', 'reports', 'web'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
