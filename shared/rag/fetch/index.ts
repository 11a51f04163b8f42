/**
 * Fetching a source URL without letting a tenant reach private addresses (SSRF). Outside code imports
 * this file only; the other modules here are its parts.
 */
export {
  type FetchedDocument,
  type FetchUrlOptions,
  fetchUrl,
  type HostLookup,
  type PinnedAddress,
} from './fetch-url.ts';
