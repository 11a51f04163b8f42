import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { UsageError } from './api-error.ts';

/** The document kinds the API ingests, by file extension. */
export const SUPPORTED_EXTENSIONS: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
};

export type IngestInput =
  | { readonly kind: 'file'; readonly path: string; readonly label: string; readonly contentType: string }
  | { readonly kind: 'url'; readonly url: string; readonly label: string };

export interface CollectedInputs {
  readonly inputs: IngestInput[];
  /** Files skipped because of their extension (shown to the user, never uploaded). */
  readonly ignored: string[];
}

const isUrl = (arg: string) => /^https?:\/\//i.test(arg);
// Version control, the local data dir, dependencies: never documents someone meant to ingest.
const skipDir = (name: string) => name.startsWith('.') || name === 'node_modules';

/**
 * Turns `ingest` arguments into uploads: URLs as they are, files as given, folders walked recursively
 * (sorted, so runs are reproducible) keeping only supported extensions.
 */
export async function collectInputs(args: readonly string[]): Promise<CollectedInputs> {
  const inputs: IngestInput[] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();

  const addFile = (path: string, label: string) => {
    const contentType = SUPPORTED_EXTENSIONS[extname(path).toLowerCase()];
    if (!contentType) {
      ignored.push(label);
      return;
    }
    if (seen.has(path)) return;
    seen.add(path);
    inputs.push({ kind: 'file', path, label, contentType });
  };

  async function walk(dir: string, root: string): Promise<void> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skipDir(entry.name)) await walk(path, root);
      } else if (entry.isFile()) {
        addFile(path, relative(root, path) || basename(path));
      }
    }
  }

  for (const arg of args) {
    if (isUrl(arg)) {
      if (!seen.has(arg)) inputs.push({ kind: 'url', url: arg, label: arg });
      seen.add(arg);
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(arg);
    } catch {
      throw new UsageError(`No such file or folder: ${arg}`);
    }
    if (info.isDirectory()) await walk(arg, arg);
    else addFile(arg, basename(arg));
  }
  return { inputs, ignored };
}
