import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { PayloadTooLargeError, ValidationError } from '../../domain/errors.ts';
import { type PinnedAddress, requestOnce } from './pinned-request.ts';
import { nonPublicAddressReason } from './public-address.ts';

export type { PinnedAddress } from './pinned-request.ts';

/** Resolves a host name to every address it has (as `dns.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<readonly PinnedAddress[]>;

export interface FetchUrlOptions {
  /** For the whole fetch: every redirect and the body included. */
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
  readonly lookup?: HostLookup;
  /**
   * TESTS ONLY. Lets the named addresses through the SSRF guard (a local test server listens on
   * 127.0.0.1, which the guard rightly refuses). Never set it from configuration or input.
   */
  readonly unsafeAllowAddressForTests?: (address: string) => boolean;
}

export interface FetchedDocument {
  readonly bytes: Uint8Array;
  /** The Content-Type header as sent, if any. */
  readonly contentType: string | undefined;
  /** The URL after redirects. */
  readonly finalUrl: string;
}

const maxRedirects = 5;
const defaultMaxBytes = 20 * 1024 * 1024;

const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

function refuse(reason: string, redirected: boolean): never {
  throw new ValidationError(`URL refused: ${reason}${redirected ? ' (after a redirect)' : ''}.`);
}

function parseUrl(url: string | URL, base?: URL): URL {
  try {
    return new URL(url, base);
  } catch {
    throw new ValidationError('URL refused: it is not a valid URL.');
  }
}

/**
 * The addresses a URL may be fetched from, all of them checked. A host that resolves to any
 * non-public address is refused even if it also has public ones: the connection could use
 * either.
 */
async function checkedAddresses(
  url: URL,
  options: FetchUrlOptions,
  redirected: boolean,
): Promise<PinnedAddress[]> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    refuse('only http and https URLs can be fetched', redirected);
  if (url.username || url.password) refuse('URLs with a user name or password are not fetched', redirected);
  // Stryker disable next-line Regex: URL.hostname has brackets only around a whole IPv6 literal, so the anchors never change the result
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  let addresses: PinnedAddress[];
  if (literal) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: Node connects to an IP-literal host without a lookup, so the pinned family is never read for it
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = [...(await (options.lookup ?? systemLookup)(host))];
    } catch {
      throw new ValidationError('The URL could not be fetched: its host name does not resolve.');
    }
    if (addresses.length === 0)
      throw new ValidationError('The URL could not be fetched: its host name does not resolve.');
  }
  for (const { address } of addresses) {
    if (options.unsafeAllowAddressForTests?.(address)) continue;
    const reason = nonPublicAddressReason(address);
    if (reason) refuse(literal ? `it is ${reason}` : `it resolves to ${reason}`, redirected);
  }
  return addresses;
}

function networkFailure(error: unknown): ValidationError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const reason =
    typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT'))
      ? "the server's TLS certificate is not valid"
      : 'the connection to the server failed';
  return new ValidationError(`The URL could not be fetched: ${reason}.`, { cause: error });
}

/**
 * Fetches a document from a URL given by a user, guarding against server-side request forgery:
 * only http(s); every address the host resolves to must be public (see public-address.ts);
 * redirects are followed by hand, at most 5, each hop checked the same way; and the connection
 * goes to the addresses that were checked (a pinned DNS lookup), so a second, different DNS
 * answer cannot slip a private address in between check and connect.
 */
export async function fetchUrl(url: string | URL, options: FetchUrlOptions = {}): Promise<FetchedDocument> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let current = parseUrl(url);
  try {
    for (let hop = 0; ; hop++) {
      const addresses = await checkedAddresses(current, options, hop > 0);
      signal.throwIfAborted();
      const response = await requestOnce(current, addresses, { signal, maxBytes });
      if (response.kind === 'document') return { ...response.document, finalUrl: current.href };
      if (hop >= maxRedirects) throw new ValidationError(`URL refused: more than ${maxRedirects} redirects.`);
      current = parseUrl(response.location, current);
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.aborted) {
      throw new ValidationError(
        `The URL could not be fetched: no complete answer within ${timeoutMs / 1000} s.`,
        {
          cause: error,
        },
      );
    }
    if (error instanceof ValidationError || error instanceof PayloadTooLargeError) throw error;
    throw networkFailure(error);
  }
}
