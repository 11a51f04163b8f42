import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadQdrantSpec, type SpecOperation } from './qdrant-spec.ts';

/**
 * A Qdrant-compatible HTTP server for tests: the subset of the REST API the Qdrant adapter uses, in
 * memory, with every request and every response validated against Qdrant's own OpenAPI document. A
 * request that breaks the spec gets Qdrant's 400 error shape; a response the fake would send that breaks
 * the spec becomes a 500. Both are recorded in `violations`, which a suite asserts is empty.
 */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly operationId: string | undefined;
  readonly query: Record<string, string>;
  readonly body: unknown;
  /** Whether an `api-key` header came with it (the value itself is not kept). */
  readonly hadApiKey: boolean;
  status: number;
}

export interface FakeQdrant {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly violations: string[];
  close(): Promise<void>;
}

type Payload = Record<string, unknown>;
interface StoredPoint {
  id: string | number;
  vector: number[];
  payload: Payload;
  version: number;
}
interface Collection {
  size: number;
  distance: string;
  hnsw: Record<string, unknown>;
  indexes: Map<string, Record<string, unknown>>;
  points: Map<string, StoredPoint>;
  operations: number;
}
type Reply = { status: number; body: unknown };

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const list = (value: unknown): unknown[] => (value == null ? [] : Array.isArray(value) ? value : [value]);
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;

function matchesFilter(filter: Record<string, unknown>, point: StoredPoint): boolean {
  if (filter.min_should != null) throw new BadRequest('fake Qdrant: min_should is not supported');
  const should = list(filter.should);
  return (
    list(filter.must).every((c) => matchesCondition(c, point)) &&
    !list(filter.must_not).some((c) => matchesCondition(c, point)) &&
    (should.length === 0 || should.some((c) => matchesCondition(c, point)))
  );
}

function matchesCondition(condition: unknown, point: StoredPoint): boolean {
  const c = condition as Record<string, unknown>;
  if ('has_id' in c) return list(c.has_id).some((id) => String(id) === String(point.id));
  if (!('key' in c)) return matchesFilter(c, point);
  const match = c.match as Record<string, unknown> | undefined;
  if (!match || Object.keys(c).some((k) => k !== 'key' && k !== 'match')) {
    throw new BadRequest(`fake Qdrant: only match conditions are supported, got ${JSON.stringify(c)}`);
  }
  const values = list(point.payload[String(c.key)]);
  if ('value' in match) return values.includes(match.value);
  if ('any' in match) return list(match.any).some((v) => values.includes(v));
  if ('except' in match) return !list(match.except).some((v) => values.includes(v));
  throw new BadRequest(`fake Qdrant: unsupported match ${JSON.stringify(match)}`);
}

function createEngine() {
  const collections = new Map<string, Collection>();
  const ok = (result: unknown): Reply => ({ status: 200, body: { result, status: 'ok', time: 0 } });
  const existing = (name: string): Collection => {
    const c = collections.get(name);
    if (!c) throw new BadRequest(`Not found: Collection \`${name}\` doesn't exist!`, 404);
    return c;
  };
  const updated = (c: Collection) => ok({ operation_id: c.operations++, status: 'completed' });
  const selected = (c: Collection, filter: unknown) =>
    [...c.points.values()].filter(
      (p) => filter == null || matchesFilter(filter as Record<string, unknown>, p),
    );

  const handlers: Record<string, (name: string, body: Record<string, unknown>) => Reply> = {
    root: () => ({ status: 200, body: { title: 'qdrant - vector search engine (fake)', version: '1.19.0' } }),
    collection_exists: (name) => ok({ exists: collections.has(name) }),
    get_collection(name) {
      const c = existing(name);
      return ok({
        status: 'green',
        optimizer_status: 'ok',
        segments_count: 1,
        points_count: c.points.size,
        indexed_vectors_count: 0,
        config: {
          params: { vectors: { size: c.size, distance: c.distance }, shard_number: 1, replication_factor: 1 },
          hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, ...c.hnsw },
          optimizer_config: { default_segment_number: 0, flush_interval_sec: 5 },
          wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        },
        payload_schema: Object.fromEntries(
          [...c.indexes].map(([field, params]) => [field, { data_type: params.type, params, points: 0 }]),
        ),
      });
    },
    create_collection(name, body) {
      if (collections.has(name))
        throw new BadRequest(`Wrong input: Collection \`${name}\` already exists!`, 409);
      const vectors = body.vectors as { size?: number; distance?: string } | undefined;
      if (typeof vectors?.size !== 'number' || typeof vectors.distance !== 'string') {
        throw new BadRequest('fake Qdrant: only a single unnamed vector is supported');
      }
      const hnsw = (body.hnsw_config ?? {}) as Record<string, unknown>;
      collections.set(name, {
        size: vectors.size,
        distance: vectors.distance,
        hnsw,
        indexes: new Map(),
        points: new Map(),
        operations: 0,
      });
      return ok(true);
    },
    delete_collection: (name) => ok(collections.delete(name)),
    create_field_index(name, body) {
      const c = existing(name);
      const schema = body.field_schema;
      c.indexes.set(
        String(body.field_name),
        typeof schema === 'string' ? { type: schema } : (schema as Payload),
      );
      return updated(c);
    },
    upsert_points(name, body) {
      const c = existing(name);
      if (!Array.isArray(body.points))
        throw new BadRequest('fake Qdrant: only the points list form is supported');
      const version = c.operations;
      const points = body.points as Array<{ id: string | number; vector: unknown; payload?: Payload }>;
      for (const p of points) {
        if (!Array.isArray(p.vector) || p.vector.length !== c.size) {
          const got = Array.isArray(p.vector) ? p.vector.length : typeof p.vector;
          throw new BadRequest(`Wrong input: Vector dimension error: expected dim: ${c.size}, got ${got}`);
        }
      }
      for (const p of points) {
        const v = p.vector as number[];
        const vector = c.distance === 'Cosine' ? v.map((x) => x / norm(v)) : v;
        c.points.set(String(p.id), { id: p.id, vector, payload: p.payload ?? {}, version });
      }
      return updated(c);
    },
    query_points(name, body) {
      const c = existing(name);
      const raw = body.query as unknown;
      const query = Array.isArray(raw) ? raw : (raw as { nearest?: unknown } | undefined)?.nearest;
      if (!Array.isArray(query) || query.some((x) => typeof x !== 'number')) {
        throw new BadRequest('fake Qdrant: only dense nearest queries are supported');
      }
      if (query.length !== c.size) {
        throw new BadRequest(
          `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${query.length}`,
        );
      }
      if (c.distance !== 'Cosine') throw new BadRequest('fake Qdrant: only Cosine distance is supported');
      const length = norm(query as number[]);
      const q = (query as number[]).map((x) => x / length);
      const threshold = typeof body.score_threshold === 'number' ? body.score_threshold : -Infinity;
      const withPayload = body.with_payload;
      const offset = typeof body.offset === 'number' ? body.offset : 0;
      const scored = selected(c, body.filter)
        .map((p) => ({ p, score: p.vector.reduce((s, x, i) => s + x * (q[i] ?? 0), 0) }))
        .filter((s) => s.score >= threshold)
        .sort((a, b) => b.score - a.score)
        .slice(offset, offset + (typeof body.limit === 'number' ? body.limit : 10));
      const payloadOf = (p: StoredPoint) =>
        withPayload === true
          ? p.payload
          : Array.isArray(withPayload)
            ? Object.fromEntries(Object.entries(p.payload).filter(([k]) => withPayload.includes(k)))
            : undefined;
      return ok({
        points: scored.map(({ p, score }) => ({
          id: p.id,
          version: p.version,
          score,
          payload: payloadOf(p) ?? null,
        })),
      });
    },
    delete_points(name, body) {
      const c = existing(name);
      const doomed =
        'filter' in body ? selected(c, body.filter).map((p) => String(p.id)) : list(body.points).map(String);
      for (const id of doomed) c.points.delete(id);
      return updated(c);
    },
    count_points: (name, body) => ok({ count: selected(existing(name), body.filter).length }),
  };
  return {
    handle(op: SpecOperation, body: unknown): Reply {
      const handler = handlers[op.operationId];
      if (!handler) throw new BadRequest(`fake Qdrant: ${op.operationId} is not implemented`);
      return handler(op.pathParams.collection_name ?? '', (body ?? {}) as Record<string, unknown>);
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface FakeQdrantOptions {
  /** Rewrites a response body before it is validated: lets a test prove invalid responses are caught. */
  readonly tamper?: (operationId: string, body: unknown) => unknown;
  /** An outage: a request this answers true for gets a 503, as an overloaded or restarting cluster sends. */
  readonly unavailable?: (operationId: string, body: unknown) => boolean;
}

export async function startFakeQdrant(options: FakeQdrantOptions = {}): Promise<FakeQdrant> {
  const spec = loadQdrantSpec();
  const engine = createEngine();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const errorBody = (message: string) => ({ status: { error: message }, time: 0 });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const op = spec.find(method, url.pathname);
    const text = await readBody(req);
    const where = `${method} ${url.pathname}`;
    let body: unknown;
    let reply: Reply;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      operationId: op?.operationId,
      query: Object.fromEntries(url.searchParams),
      body,
      hadApiKey: req.headers['api-key'] !== undefined,
      status: 0,
    };
    requests.push(record);
    const problems = op
      ? [
          ...op.validateQuery(url.searchParams),
          ...(typeof body === 'string' ? ['body is not JSON'] : op.validateBody(body)),
        ]
      : [`${where} is not an operation of the Qdrant API`];
    if (problems.length > 0) {
      violations.push(`request ${where}: ${problems.join('; ')}`);
      reply = { status: op ? 400 : 404, body: errorBody(`Json deserialize error: ${problems.join('; ')}`) };
    } else if (options.unavailable?.(op!.operationId, body)) {
      reply = { status: 503, body: errorBody('Service Unavailable') };
    } else {
      const started = performance.now();
      try {
        reply = engine.handle(op!, body);
        if (options.tamper) reply = { ...reply, body: options.tamper(op!.operationId, reply.body) };
        const replyBody = reply.body as { time?: number };
        if (replyBody.time !== undefined) replyBody.time = (performance.now() - started) / 1000;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!(error instanceof BadRequest)) violations.push(`fake Qdrant crashed on ${where}: ${message}`);
        else if (message.startsWith('fake Qdrant'))
          violations.push(`unsupported by the fake, ${where}: ${message}`);
        reply = { status: error instanceof BadRequest ? error.status : 500, body: errorBody(message) };
      }
      const invalid = op!.validateResponse(reply.status, reply.body);
      if (invalid.length > 0) {
        violations.push(`response ${where}: ${invalid.join('; ')}`);
        reply = {
          status: 500,
          body: errorBody(`fake Qdrant sent an invalid response: ${invalid.join('; ')}`),
        };
      }
    }
    record.status = reply.status;
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    violations,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
