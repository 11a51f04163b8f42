import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Qdrant's own OpenAPI document (v1.19, the js client's version), read in place: in CI the repository is
 * cloned with `shared/` beside it, so it is resolved relative to the repository root. A copy of the
 * repository elsewhere (the mutation-testing sandbox) names it in QDRANT_OPENAPI_PATH.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const QDRANT_OPENAPI_PATH =
  process.env.QDRANT_OPENAPI_PATH ?? path.resolve(repoRoot, '../shared/vendor/qdrant/openapi.json');

const BASE = 'https://qdrant.invalid/openapi.json';

// ajv-formats is CommonJS; under NodeNext its default import is the module object, at runtime the plugin.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface SpecOperation {
  readonly method: string;
  readonly template: string;
  readonly operationId: string;
  readonly pathParams: Record<string, string>;
  validateQuery(query: URLSearchParams): string[];
  validateBody(body: unknown): string[];
  validateResponse(status: number, body: unknown): string[];
}

export interface QdrantSpec {
  /** The operation for a method + concrete path, or undefined when the spec has none. */
  find(method: string, pathname: string): SpecOperation | undefined;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * OpenAPI 3.0 schema → JSON Schema for ajv. Qdrant's generator writes "or null" as `anyOf: [X,
 * {nullable: true}]`; read literally (OpenAPI 3.0.3), a bare `{nullable: true}` matches anything, which
 * would switch validation off for every optional field, so it becomes `{type: 'null'}` (the intent).
 * `type: T, nullable: true` becomes `type: [T, 'null']`. Refs are made absolute so that inline schemas
 * taken from `paths` resolve against the registered document.
 */
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out[key] = BASE + value;
    else if (key !== 'nullable') out[key] = toJsonSchema(value);
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  const { description: _d, default: _def, ...rest } = out;
  return Object.keys(rest).length === 0 ? { type: 'null' } : { anyOf: [rest, { type: 'null' }] };
}

const integerFormat = (min: number, max: number) => ({
  type: 'number' as const,
  validate: (n: number) => Number.isInteger(n) && n >= min && n <= max,
});

function createAjv(document: JsonObject): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // Rust number types Qdrant's schema generator writes as formats.
  ajv.addFormat('uint8', integerFormat(0, 255));
  ajv.addFormat('uint32', integerFormat(0, 2 ** 32 - 1));
  ajv.addFormat('uint', integerFormat(0, Number.MAX_SAFE_INTEGER));
  ajv.addFormat('uint64', integerFormat(0, Number.MAX_SAFE_INTEGER));
  ajv.addFormat('int64', integerFormat(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  ajv.addFormat('float', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('double', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('partial-date-time', /^\S+$/);
  ajv.addFormat('binary', () => true);
  ajv.addSchema({ $id: BASE, components: toJsonSchema(document.components ?? {}) });
  return ajv;
}

const describeErrors = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).slice(0, 20).map((e) => `${where}${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);

function compileOperation(ajv: Ajv, template: string, method: string, op: JsonObject) {
  const cache = new Map<string, ValidateFunction>();
  const validator = (key: string, schema: Json): ValidateFunction => {
    let fn = cache.get(key);
    if (!fn) {
      fn = ajv.compile(toJsonSchema(schema) as object);
      cache.set(key, fn);
    }
    return fn;
  };
  const jsonSchemaOf = (container: Json | undefined): Json | undefined => {
    const content = isObject(container) ? container.content : undefined;
    const media = isObject(content) ? content['application/json'] : undefined;
    return isObject(media) ? media.schema : undefined;
  };
  const params = (Array.isArray(op.parameters) ? op.parameters : []).filter(isObject);
  const queryParams = new Map(params.filter((p) => p.in === 'query').map((p) => [String(p.name), p]));

  return {
    operationId: String(op.operationId),
    validateQuery(query: URLSearchParams): string[] {
      const problems: string[] = [];
      for (const [name, raw] of query) {
        const param = queryParams.get(name);
        if (!param) {
          problems.push(`query parameter "${name}" is not in the spec of ${method} ${template}`);
          continue;
        }
        const schema = param.schema ?? {};
        const value =
          isObject(schema) && (schema.type === 'boolean' || schema.type === 'integer') ? parseJson(raw) : raw;
        const fn = validator(`query:${name}`, schema);
        if (!fn(value)) problems.push(...describeErrors(`query ${name}`, fn.errors));
      }
      return problems;
    },
    validateBody(body: unknown): string[] {
      const schema = jsonSchemaOf(op.requestBody);
      if (schema === undefined) return body === undefined ? [] : [`${method} ${template} takes no body`];
      const fn = validator('request', schema);
      return fn(body) ? [] : describeErrors('body', fn.errors);
    },
    validateResponse(status: number, body: unknown): string[] {
      const responses = isObject(op.responses) ? op.responses : {};
      const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      const schema = jsonSchemaOf(declared);
      if (schema === undefined) return [`${method} ${template} declares no JSON response for ${status}`];
      const fn = validator(`response:${status}`, schema);
      return fn(body) ? [] : describeErrors(`response ${status}`, fn.errors);
    },
  };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

let loaded: QdrantSpec | undefined;

/** Loads and compiles the spec once per process (compiling is the slow part). */
export function loadQdrantSpec(): QdrantSpec {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(QDRANT_OPENAPI_PATH, 'utf8')) as JsonObject;
  const ajv = createAjv(document);
  const routes: Array<{
    method: string;
    template: string;
    pattern: RegExp;
    names: string[];
    op: JsonObject;
  }> = [];
  for (const [template, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
    for (const [method, op] of Object.entries(item)) {
      if (isObject(op)) routes.push({ method: method.toUpperCase(), template, pattern, names, op });
    }
  }
  const compiled = new Map<(typeof routes)[number], ReturnType<typeof compileOperation>>();

  loaded = {
    find(method, pathname) {
      // Literal segments win over parameters (e.g. `/points/query` over `/points/{id}`).
      const candidates = routes
        .filter((r) => r.method === method.toUpperCase() && r.pattern.test(pathname))
        .sort((a, b) => a.names.length - b.names.length);
      const route = candidates[0];
      if (!route) return undefined;
      let ops = compiled.get(route);
      if (!ops) {
        ops = compileOperation(ajv, route.template, route.method, route.op);
        compiled.set(route, ops);
      }
      const match = route.pattern.exec(pathname) ?? [];
      const pathParams = Object.fromEntries(
        route.names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')]),
      );
      return { method: route.method, template: route.template, pathParams, ...ops };
    },
  };
  return loaded;
}
