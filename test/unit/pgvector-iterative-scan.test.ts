import { describe, expect, it } from 'vitest';
import { hasIterativeScan } from '#shared/adapters/pgvector/vector-store.ts';

describe('which pgvector versions can keep scanning the HNSW graph (hnsw.iterative_scan, 0.8.0 on)', () => {
  it.each([
    ['0.7.4', false],
    ['0.5', false],
    ['0.8.0', true],
    ['0.8', true],
    ['0.10.1', true],
    ['1.0.0', true],
    ['2.1', true],
  ])('when the extension is %s then iterative scan is %s', (version, expected) => {
    expect(hasIterativeScan(version)).toBe(expected);
  });
});
