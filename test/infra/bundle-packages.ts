/** The document readers: only the ingest function may carry them. */
export const EXTRACTOR_PACKAGES = [
  'unpdf',
  'mammoth',
  'linkedom',
  '@mozilla/readability',
  'html-to-text',
  'jszip',
  'htmlparser2',
] as const;

/** Packages only some requests of the api and chat functions need: each must stay behind a dynamic import(). */
export const LOADED_ON_DEMAND = [
  'openai',
  '@anthropic-ai/sdk',
  'gpt-tokenizer',
  '@qdrant/js-client-rest',
  'undici',
  ...EXTRACTOR_PACKAGES,
] as const;

/** The npm package a bundle input (an esbuild metafile path) comes from, if any. */
export const packageOf = (input: string): string | undefined =>
  input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
