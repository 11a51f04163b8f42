import { cpSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';

/** Some CommonJS dependencies call require() at run time; an ESM bundle has none unless we make one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** The file Lambda loads (`index.handler`); every other entry and chunk sits beside it. */
export const HANDLER_FILE = 'index.mjs';

/** The ingest function's document-reading worker thread, beside index.mjs (see read-in-worker.ts). */
export const EXTRACTION_WORKER_FILE = 'extraction-worker.mjs';

export type FunctionName = 'api' | 'ingest' | 'chat-stream' | 'migrate';

export interface FunctionBundleSpec {
  /** Absolute path of the handler module (it exports `handler`); bundled as index.mjs. */
  readonly entry: string;
  /**
   * More entry points bundled into the same asset (name without extension → absolute path), e.g. a worker
   * thread's module. They share chunks with the handler instead of each carrying its own copy.
   */
  readonly extraEntries?: Readonly<Record<string, string>>;
  /** Files to ship beside the code (destination dir in the asset → source dir), e.g. the SQL migrations. */
  readonly copyDirs?: Readonly<Record<string, string>>;
}

/**
 * The esbuild options of every deployed function: ESM for Node 22, minified, linked source maps without
 * sources, `@aws-sdk/*` left to the Lambda runtime, and code splitting — what a request path loads with a
 * dynamic `import()` becomes a chunk of its own that a cold start never reads unless that path runs. The
 * bench builds with these very options so its figures are the deployed ones.
 */
export function functionBuildOptions(
  projectRoot: string,
  spec: FunctionBundleSpec,
  outdir: string,
): BuildOptions {
  return {
    entryPoints: { index: spec.entry, ...spec.extraEntries },
    outdir,
    absWorkingDir: projectRoot,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    // Chunks stay at the asset root: modules that find a sibling file through import.meta.url (the
    // extraction worker) resolve it the same from a chunk as from index.mjs.
    chunkNames: '[name]-[hash]',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: 'error',
  };
}

/** What each deployed function's asset is built from: its handler, plus any worker entry or data files. */
export function functionBundle(projectRoot: string, name: FunctionName): FunctionBundleSpec {
  const entry = join(projectRoot, 'functions', name, 'handler.ts');
  switch (name) {
    case 'ingest':
      return {
        entry,
        // Documents are read in worker threads whose entry is a module of its own; it shares the
        // extractors' chunks with the handler instead of carrying a second copy.
        extraEntries: {
          [EXTRACTION_WORKER_FILE.replace(/\.mjs$/, '')]: join(
            projectRoot,
            'shared/rag/extract/extraction-worker.ts',
          ),
        },
      };
    case 'migrate':
      // The SQL files ship beside the handler (MIGRATIONS_DIR).
      return { entry, copyDirs: { migrations: join(projectRoot, 'shared/db/migrations') } };
    default:
      return { entry };
  }
}

/** Builds one function's asset into `outdir`; returns esbuild's metafile (what each output holds). */
export function bundleFunction(projectRoot: string, spec: FunctionBundleSpec, outdir: string): Metafile {
  const { metafile } = buildSync(functionBuildOptions(projectRoot, spec, outdir));
  if (!metafile) throw new Error('esbuild returned no metafile');
  for (const [destination, source] of Object.entries(spec.copyDirs ?? {})) {
    mkdirSync(join(outdir, destination), { recursive: true });
    cpSync(source, join(outdir, destination), { recursive: true });
  }
  return metafile;
}

export interface BundleSizes {
  /** Bytes of index.mjs: what a cold start parses before the handler runs. */
  readonly entryBytes: number;
  /** Bytes of every .mjs in the asset (entries and chunks; source maps excluded). */
  readonly totalBytes: number;
  /** Bytes of index.mjs and the chunks it imports statically: what a cold start loads. */
  readonly coldStartBytes: number;
  /** The source files (node_modules/… paths included) bundled into what a cold start loads. */
  readonly coldStartInputs: readonly string[];
}

/** Sizes of a built asset, read from its metafile. */
export function bundleSizes(metafile: Metafile, outdir: string, projectRoot: string): BundleSizes {
  const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  const entryKey = relative(projectRoot, join(outdir, HANDLER_FILE));
  const entry = metafile.outputs[entryKey];
  if (!entry) throw new Error(`No ${HANDLER_FILE} among the bundle's outputs`);
  const seen = new Set<string>();
  const visit = (file: string): number => {
    if (seen.has(file)) return 0;
    seen.add(file);
    const output = metafile.outputs[file];
    if (!output) return 0;
    let bytes = output.bytes;
    for (const imported of output.imports) {
      if (imported.kind === 'import-statement' && !imported.external) bytes += visit(imported.path);
    }
    return bytes;
  };
  const coldStartBytes = visit(entryKey);
  return {
    entryBytes: entry.bytes,
    totalBytes: outputs.reduce((sum, [, output]) => sum + output.bytes, 0),
    coldStartBytes,
    coldStartInputs: [...seen].flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {})),
  };
}
