import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';

/**
 * A stand-in for the RDS Data API (restJson1 over HTTP, as `@aws-sdk/client-rds-data` sends it) that runs the
 * statements on a real PostgreSQL server and answers in the Data API's shapes:
 * - `:name` parameters typed the way the Data API types them: a `stringValue` is `varchar` unless its
 *   `typeHint` says UUID / JSON / TIMESTAMP / DATE / TIME / DECIMAL, `longValue` is int8, `doubleValue` float8;
 * - records as typed `Field`s (longValue for integers, doubleValue for floats, booleanValue, arrayValue,
 *   stringValue for the rest, timestamps as UTC text without an offset) with `columnMetadata` type names;
 * - transactions held on one connection between BeginTransaction and Commit/RollbackTransaction;
 * - errors as the Data API sends them: `DatabaseErrorException` "…; SQLState: 23505", the 1 MiB response cap,
 *   `DatabaseResumingException` while "paused", unknown transaction ids, a wrong cluster or secret ARN;
 * - every request must be SigV4-signed for the `rds-data` service.
 */
export interface FakeDataApi {
  readonly url: string;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
  /** Every call: its operation and, for Execute, the SQL. */
  readonly calls: { operation: string; sql?: string }[];
  /** The next `count` calls answer DatabaseResumingException, as a cluster waking from auto-pause does. */
  pause(count: number): void;
  close(): Promise<void>;
}

const RESPONSE_LIMIT_BYTES = 1024 * 1024;

class DataApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface SqlParameter {
  name: string;
  typeHint?: string;
  value: {
    isNull?: boolean;
    stringValue?: string;
    longValue?: number;
    doubleValue?: number;
    booleanValue?: boolean;
    blobValue?: string;
  };
}

const HINT_CASTS: Record<string, string> = {
  UUID: 'uuid',
  JSON: 'json',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  TIME: 'time',
  DECIMAL: 'numeric',
};

/** `:name` → `$n::<the type the Data API gives that value>`; `::casts` are left alone. */
function bindParameters(sqlText: string, parameters: SqlParameter[]): { text: string; values: unknown[] } {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const order: string[] = [];
  const text = sqlText.replace(/(?<![:\w]):([A-Za-z_]\w*)/g, (whole, name: string) => {
    const p = byName.get(name);
    if (!p) return whole;
    if (!order.includes(name)) order.push(name);
    const n = order.indexOf(name) + 1;
    const v = p.value;
    if (v.isNull) return `$${n}`;
    if (v.stringValue !== undefined) return `$${n}::${HINT_CASTS[p.typeHint ?? ''] ?? 'varchar'}`;
    if (v.longValue !== undefined) return `$${n}::int8`;
    if (v.doubleValue !== undefined) return `$${n}::float8`;
    if (v.booleanValue !== undefined) return `$${n}::bool`;
    if (v.blobValue !== undefined) return `$${n}::bytea`;
    throw new DataApiError('BadRequestException', `Parameter ${name} has no value`);
  });
  const values = order.map((name) => {
    const v = byName.get(name)!.value;
    if (v.isNull) return null;
    if (v.blobValue !== undefined) return Buffer.from(v.blobValue, 'base64');
    return v.stringValue ?? v.longValue ?? v.doubleValue ?? v.booleanValue ?? null;
  });
  return { text, values };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
function utcText(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function field(value: unknown, typeName: string): Record<string, unknown> {
  if (value === null || value === undefined) return { isNull: true };
  if (typeName.startsWith('_') && Array.isArray(value)) return { arrayValue: arrayField(value, typeName) };
  if (typeof value === 'boolean') return { booleanValue: value };
  if (['int2', 'int4', 'int8', 'oid'].includes(typeName)) return { longValue: Number(value) };
  if (['float4', 'float8'].includes(typeName)) return { doubleValue: Number(value) };
  if (value instanceof Date) return { stringValue: utcText(value) };
  if (Buffer.isBuffer(value)) return { blobValue: value.toString('base64') };
  if (typeof value === 'object') return { stringValue: JSON.stringify(value) };
  return { stringValue: String(value) };
}

function arrayField(values: unknown[], typeName: string): Record<string, unknown> {
  if (values.some(Array.isArray))
    return { arrayValues: values.map((v) => arrayField(v as unknown[], typeName)) };
  if (['_int2', '_int4', '_int8'].includes(typeName)) return { longValues: values.map(Number) };
  if (['_float4', '_float8'].includes(typeName)) return { doubleValues: values.map(Number) };
  if (typeName === '_bool') return { booleanValues: values };
  return {
    stringValues: values.map((v) => (v instanceof Date ? utcText(v) : v === null ? null : String(v))),
  };
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

export async function startFakeDataApi(options: {
  databaseUrl: string;
  database?: string;
}): Promise<FakeDataApi> {
  const pool = postgres(options.databaseUrl, { max: 8, onnotice: () => {}, prepare: false });
  const typeNames = new Map<number, string>(
    (await pool`select oid::int as oid, typname from pg_type`).map((r) => [
      r.oid as number,
      r.typname as string,
    ]),
  );
  const transactions = new Map<string, postgres.ReservedSql>();
  const resourceArn = 'arn:aws:rds:us-east-1:123456789012:cluster:minirag-test';
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:minirag-test-AbCdEf';
  const database = options.database ?? 'minirag';
  const calls: FakeDataApi['calls'] = [];
  let pausedCalls = 0;

  const typeName = async (oid: number) => {
    if (!typeNames.has(oid)) {
      const [row] = await pool`select typname from pg_type where oid = ${oid}`;
      typeNames.set(oid, (row?.typname as string | undefined) ?? 'unknown');
    }
    return typeNames.get(oid)!;
  };

  async function execute(input: Record<string, unknown>) {
    const connection = input.transactionId ? transactions.get(String(input.transactionId)) : undefined;
    if (input.transactionId && !connection) {
      throw new DataApiError(
        'NotFoundException',
        `Transaction ${String(input.transactionId)} is not found`,
        404,
      );
    }
    const { text, values } = bindParameters(String(input.sql), (input.parameters as SqlParameter[]) ?? []);
    let result: postgres.RowList<postgres.Row[]>;
    try {
      result = await (connection ?? pool).unsafe(text, values as postgres.ParameterOrJSON<never>[]);
    } catch (error) {
      const e = error as { name?: string; message: string; code?: string };
      if (e.name !== 'PostgresError') throw error;
      throw new DataApiError('DatabaseErrorException', `ERROR: ${e.message}; SQLState: ${e.code}`);
    }
    const columns = await Promise.all(
      (result.columns ?? []).map(async (c) => ({
        name: c.name,
        label: c.name,
        typeName: await typeName(c.type),
      })),
    );
    const reply: Record<string, unknown> = {
      numberOfRecordsUpdated: result.command === 'SELECT' ? 0 : result.count,
    };
    if (columns.length > 0) {
      reply.records = [...result].map((row) => columns.map((c) => field(row[c.name], c.typeName)));
      if (input.includeResultMetadata) reply.columnMetadata = columns;
    }
    if (Buffer.byteLength(JSON.stringify(reply)) > RESPONSE_LIMIT_BYTES) {
      throw new DataApiError(
        'BadRequestException',
        'Database returned more than the allowed response size limit',
      );
    }
    return reply;
  }

  async function handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (input.resourceArn !== resourceArn || input.secretArn !== secretArn) {
      throw new DataApiError(
        'BadRequestException',
        'The resource ARN or secret ARN is not valid for this cluster',
      );
    }
    if (input.database !== undefined && input.database !== database) {
      throw new DataApiError(
        'DatabaseNotFoundException',
        `database "${String(input.database)}" does not exist`,
        404,
      );
    }
    if (pausedCalls > 0) {
      pausedCalls--;
      throw new DataApiError(
        'DatabaseResumingException',
        'The Aurora DB instance db-minirag-test is resuming after being auto-paused. Please wait a few seconds and try again.',
      );
    }
    switch (operation) {
      case 'BeginTransaction': {
        const connection = await pool.reserve();
        await connection.unsafe('begin');
        const transactionId = randomUUID();
        transactions.set(transactionId, connection);
        return { transactionId };
      }
      case 'CommitTransaction':
      case 'RollbackTransaction': {
        const id = String(input.transactionId);
        const connection = transactions.get(id);
        if (!connection) throw new DataApiError('NotFoundException', `Transaction ${id} is not found`, 404);
        transactions.delete(id);
        try {
          await connection.unsafe(operation === 'CommitTransaction' ? 'commit' : 'rollback');
        } finally {
          connection.release();
        }
        return {
          transactionStatus:
            operation === 'CommitTransaction' ? 'Transaction Committed' : 'Rollback Complete',
        };
      }
      case 'Execute':
        return execute(input);
      default:
        throw new DataApiError('BadRequestException', `Unsupported operation ${operation}`);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, payload: unknown, type?: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      res.end(JSON.stringify(payload));
    };
    const operation = (req.url ?? '').replace(/^\//, '').split('?')[0] ?? '';
    const auth = req.headers.authorization ?? '';
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/rds-data\/aws4_request/.test(auth)) {
      reply(403, { message: 'Missing or malformed SigV4 signature for rds-data' }, 'ForbiddenException');
      return;
    }
    body(req)
      .then((input) => {
        calls.push({ operation, ...(typeof input.sql === 'string' ? { sql: input.sql } : {}) });
        return handle(operation, input);
      })
      .then((out) => reply(200, out))
      .catch((error: unknown) => {
        if (error instanceof DataApiError) reply(error.status, { message: error.message }, error.type);
        else reply(500, { message: String(error) }, 'InternalServerErrorException');
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    resourceArn,
    secretArn,
    database,
    calls,
    pause: (count) => {
      pausedCalls = count;
    },
    async close() {
      for (const connection of transactions.values()) {
        await connection.unsafe('rollback').catch(() => {});
        connection.release();
      }
      transactions.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end({ timeout: 5 });
    },
  };
}
