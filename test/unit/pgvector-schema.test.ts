import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  comparedType,
  ensureChunkVectorsTable,
  ensureSpaceIndex,
  PGVECTOR_MISSING,
  validateDimensions,
} from '#shared/adapters/pgvector/schema.ts';
import { compile, type SqlFragment } from '#shared/db/sql.ts';
import { ServiceUnavailableError, ValidationError } from '#shared/domain/errors.ts';
import type { SystemQueryable } from '#shared/ports/database.ts';

/** A transaction that records what it is sent; the DDL script may fail, the version query answers `rows`. */
function recordingTx(o: { scriptError?: unknown; versionRows?: { version: string }[] } = {}) {
  const sent: string[] = [];
  const tx: SystemQueryable = {
    async query<T>(fragment: SqlFragment) {
      const { text } = compile(fragment);
      sent.push(text);
      return (/extversion/.test(text) ? (o.versionRows ?? [{ version: '0.8.0' }]) : []) as T[];
    },
    async execScript(script) {
      sent.push(script);
      if (o.scriptError !== undefined) throw o.scriptError;
    },
  };
  return { tx, sent };
}

describe('pgvector dimensions and compared type', () => {
  it.each([1, 2000, 4096])('when a space has %i dimensions then they are accepted', (d) => {
    expect(validateDimensions(d)).toBe(d);
  });

  it.each([0, -1, 4097, 1.5, Number.NaN])('when a space has %s dimensions then they are refused', (d) => {
    expect(() => validateDimensions(d)).toThrow(ValidationError);
    expect(() => validateDimensions(d)).toThrow(`integer from 1 to 4096, got ${d}`);
  });

  it.each([
    [1536, 'vector(1536)', true],
    [2000, 'vector(2000)', true],
    [2001, 'halfvec(2001)', true],
    [3072, 'halfvec(3072)', true],
    [4000, 'halfvec(4000)', true],
    [4001, 'halfvec(4001)', false],
  ] as const)(
    'when a space has %i dimensions then its vectors compare as %s (indexable: %s)',
    (d, text, indexable) => {
      const type = comparedType(d);
      expect(type).toMatchObject({ text, indexable });
      expect(compile(type.sql)).toEqual({ text, params: [] });
    },
  );
});

describe('creating the pgvector table', () => {
  it('when it is created then the creation is serialised by an advisory lock taken first, and the extension version is returned', async () => {
    const { tx, sent } = recordingTx({ versionRows: [{ version: '0.8.1' }] });
    expect(await ensureChunkVectorsTable(tx)).toBe('0.8.1');
    expect(sent[0]).toMatch(/pg_advisory_xact_lock\(hashtext\('minirag\.chunk_vectors'\)\)/);
    expect(sent[1]).toMatch(/create extension if not exists vector;[\s\S]*force row level security/);
  });

  it('when the version cannot be read then it is taken as 0', async () => {
    expect(await ensureChunkVectorsTable(recordingTx({ versionRows: [] }).tx)).toBe('0');
  });

  it.each([
    ['0A000', 'extension "vector" is not available'],
    ['58P01', 'could not open extension control file "/usr/share/postgresql/15/extension/vector.control"'],
  ])(
    'when the server says %s about the vector extension then a non-retryable 503 names the remedy',
    async (code, message) => {
      const cause = Object.assign(new Error(message), { code });
      const error = await ensureChunkVectorsTable(recordingTx({ scriptError: cause }).tx).catch((e) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toBe(PGVECTOR_MISSING);
      expect(error.message).toMatch(/no pgvector extension.*install it.*or set VECTOR_STORE=qdrant/);
      expect(error).toMatchObject({ status: 503, retryable: false, cause });
    },
  );

  it.each([
    ['another code about the extension', Object.assign(new Error('extension "vector" x'), { code: '42501' })],
    [
      'the same code about something else',
      Object.assign(new Error('feature not supported'), { code: '0A000' }),
    ],
    ['a message that is not text', { code: '0A000', message: 42 }],
    ['no error object', null],
  ])('when the failure is %s then it is passed on unchanged', async (_, failure) => {
    const error = await ensureChunkVectorsTable(recordingTx({ scriptError: failure }).tx).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(error).toBe(failure);
  });
});

describe("creating a space's HNSW index", () => {
  const indexName = (space: string) =>
    `chunk_vectors_hnsw_${createHash('sha1').update(space).digest('hex').slice(0, 16)}`;

  it('when the space fits vector then a partial cosine index on vector(DIM) is created under the advisory lock', async () => {
    const { tx, sent } = recordingTx();
    await ensureSpaceIndex(tx, 'openai.text-embedding-3-small.1536', 1536);
    expect(sent[0]).toMatch(/pg_advisory_xact_lock\(hashtext\('minirag\.chunk_vectors'\)\)/);
    expect(sent[1]).toBe(
      `create index if not exists ${indexName('openai.text-embedding-3-small.1536')} on chunk_vectors using hnsw ((embedding::vector(1536)) vector_cosine_ops) where space = 'openai.text-embedding-3-small.1536';`,
    );
  });

  it('when the space needs halfvec then the index is on halfvec(DIM) with its operator class', async () => {
    const { tx, sent } = recordingTx();
    await ensureSpaceIndex(tx, 'big_3072', 3072);
    expect(sent[1]).toContain('((embedding::halfvec(3072)) halfvec_cosine_ops)');
  });

  it('when the space is too wide for any HNSW index then nothing is sent', async () => {
    const { tx, sent } = recordingTx();
    await ensureSpaceIndex(tx, 'huge', 4096);
    expect(sent).toEqual([]);
  });

  it.each(["a'; drop table tenants; --", 'Upper', 'with space', ''])(
    'when the space name is %j then it is refused before any SQL',
    async (name) => {
      const { tx, sent } = recordingTx();
      await expect(ensureSpaceIndex(tx, name, 4)).rejects.toThrow(ValidationError);
      await expect(ensureSpaceIndex(tx, name, 4)).rejects.toThrow(`invalid embedding space name: ${name}`);
      expect(sent).toEqual([]);
    },
  );
});
