import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeQdrant, startFakeQdrant } from '#test/fakes/qdrant-server.ts';

/** The fake is only worth trusting if it really rejects what the real Qdrant API would reject. */
describe('fake Qdrant server', () => {
  let fake: FakeQdrant | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function withCollection(options?: Parameters<typeof startFakeQdrant>[0]) {
    fake = await startFakeQdrant(options);
    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${fake!.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const created = await send('PUT', '/collections/c', { vectors: { size: 3, distance: 'Cosine' } });
    expect(created.status).toBe(200);
    return { fake, send };
  }

  it('when requests follow the spec then they succeed and no violation is recorded', async () => {
    const { fake, send } = await withCollection();
    const id = randomUUID();
    const upsert = await send('PUT', '/collections/c/points?wait=true', {
      points: [{ id, vector: [1, 0, 0], payload: { tenant_id: 't1', tags: ['a', 'b'] } }],
    });
    expect(upsert.status).toBe(200);
    const query = await send('POST', '/collections/c/points/query', {
      query: [1, 0.1, 0],
      filter: {
        must: [
          { key: 'tenant_id', match: { value: 't1' } },
          { key: 'tags', match: { any: ['b'] } },
        ],
      },
      limit: 5,
      with_payload: true,
    });
    expect(query.status).toBe(200);
    expect(query.body.result).toMatchObject({ points: [{ id, payload: { tenant_id: 't1' } }] });
    expect(fake.violations).toEqual([]);
  });

  it('when a filter has the wrong shape then it answers 400 in Qdrant error shape and records a violation', async () => {
    const { fake, send } = await withCollection();
    const reply = await send('POST', '/collections/c/points/query', {
      query: [1, 0, 0],
      filter: { must: [{ key: 'tenant_id', match: { value: { nested: 'object' } } }], sometimes: [] },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ status: { error: expect.stringContaining('body/filter') } });
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatch(/^request POST \/collections\/c\/points\/query: /);
  });

  it('when a vector has the wrong type then the upsert is rejected, also through the real client', async () => {
    const { fake, send } = await withCollection();
    const raw = await send('PUT', '/collections/c/points', {
      points: [{ id: randomUUID(), vector: 'not a vector' }],
    });
    expect(raw.status).toBe(400);
    const client = new QdrantClient({ url: fake.url, checkCompatibility: false });
    const points = [{ id: randomUUID(), vector: ['1', '2', '3'] as unknown as number[] }];
    await expect(client.upsert('c', { wait: true, points })).rejects.toMatchObject({ status: 400 });
    expect(fake.violations).toHaveLength(2);
  });

  it('when match any repeats a value then it is rejected as the spec demands unique items', async () => {
    const { fake, send } = await withCollection();
    const reply = await send('POST', '/collections/c/points/count', {
      filter: { must: [{ key: 'tags', match: { any: ['a', 'a'] } }] },
    });
    expect(reply.status).toBe(400);
    expect(fake.violations).toHaveLength(1);
  });

  it('when the path, method or a query parameter is not in the spec then it is refused and recorded', async () => {
    const { fake, send } = await withCollection();
    expect((await send('POST', '/collections/c/points/search/nearest', { vector: [1, 0, 0] })).status).toBe(
      404,
    );
    expect((await send('PATCH', '/collections/c/points', {})).status).toBe(404);
    expect((await send('PUT', '/collections/c/points?wait=maybe', { points: [] })).status).toBe(400);
    expect((await send('PUT', '/collections/c/points?fast=true', { points: [] })).status).toBe(400);
    expect(fake.violations).toHaveLength(4);
  });

  it('when the fake itself would send a response that breaks the spec then it sends 500 and records it', async () => {
    const { fake, send } = await withCollection({
      tamper: (operationId, body) =>
        operationId === 'count_points' ? { ...(body as object), result: { count: -1 } } : body,
    });
    const reply = await send('POST', '/collections/c/points/count', {});
    expect(reply.status).toBe(500);
    expect(fake.violations).toEqual([
      expect.stringMatching(/^response POST \/collections\/c\/points\/count: .*count/),
    ]);
  });

  it('when a collection is missing or created twice then it answers as Qdrant does (404, 409)', async () => {
    const { fake, send } = await withCollection();
    expect((await send('PUT', '/collections/c', { vectors: { size: 3, distance: 'Cosine' } })).status).toBe(
      409,
    );
    const missing = await send('POST', '/collections/nope/points/count', {});
    expect(missing).toMatchObject({
      status: 404,
      body: { status: { error: "Not found: Collection `nope` doesn't exist!" } },
    });
    expect(fake.violations).toEqual([]);
  });
});
