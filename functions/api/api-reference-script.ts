import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

/**
 * The API reference's script: Scalar's standalone browser bundle from the @scalar/api-reference package,
 * served from this origin so /docs works offline and runs no third-party code next to the API. In the api
 * function's Lambda bundle it is a file of its own beside index.mjs (infra/constructs/function-bundle.ts copies it there
 * under this name), read on the first /docs request rather than inlined: 3.5 MB the other routes never need.
 */
const API_REFERENCE_SCRIPT_FILE = 'api-reference.js';

/**
 * Scalar's settings. Every feature that would reach another host is off: its web fonts (fonts.scalar.com),
 * the request proxy for "Try it" (proxy.scalar.com — same-origin requests need none), the hosted client,
 * its AI agent and telemetry.
 */
const SCALAR_CONFIGURATION = {
  url: '/openapi.json',
  withDefaultFonts: false,
  proxyUrl: '',
  hideClientButton: true,
  showDeveloperTools: 'never',
  telemetry: false,
  agent: { disabled: true },
};

export interface ApiReferenceScript {
  /** The script as served: the vendored bundle, then the call that renders the reference into `#app`. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its gzip encoding (API Gateway does not compress, and browsers all accept gzip). */
  gzipped(): Promise<Uint8Array<ArrayBuffer>>;
  /** Content hash: in the script's URL, so it can be cached for a year and a new version is fetched anew. */
  readonly hash: string;
}

function vendoredScriptPath(): string {
  // From source (tsx, vitest) the file is in node_modules; in the bundle it sits beside index.mjs.
  if (import.meta.url.endsWith('.ts')) {
    return createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');
  }
  return fileURLToPath(new URL(`./${API_REFERENCE_SCRIPT_FILE}`, import.meta.url));
}

let loaded: Promise<ApiReferenceScript> | undefined;

/** Reads the script once per process (container) and keeps it in memory. */
export function apiReferenceScript(): Promise<ApiReferenceScript> {
  loaded ??= load().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

async function load(): Promise<ApiReferenceScript> {
  const vendored = await readFile(vendoredScriptPath());
  const init = `\n;Scalar.createApiReference('#app', ${JSON.stringify(SCALAR_CONFIGURATION)});\n`;
  const body = Buffer.concat([vendored, Buffer.from(init)]);
  let compressed: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return {
    body,
    hash: createHash('sha256').update(body).digest('hex').slice(0, 16),
    gzipped: () => {
      compressed ??= promisify(gzip)(body);
      return compressed;
    },
  };
}
