import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { PayloadTooLargeError, ValidationError } from '../../domain/errors.ts';

export interface PinnedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type HopResult =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'document'; readonly document: { bytes: Uint8Array; contentType: string | undefined } };

const headers = {
  'user-agent': 'MiniRAG/0.1 (document ingestion)',
  accept: 'text/html,application/xhtml+xml,application/pdf,text/markdown,text/plain;q=0.9,*/*;q=0.5',
  'accept-encoding': 'gzip, deflate, br',
};

/**
 * A DNS lookup that can only answer with the addresses already checked, so the socket connects
 * to exactly those (TLS still verifies the certificate against the host name).
 */
export function pinnedLookup(addresses: readonly PinnedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'object' ? options.family : undefined;
    const usable = addresses.filter((a) => !family || family === a.family || family === `IPv${a.family}`);
    const chosen = usable.length > 0 ? usable : addresses;
    // The LookupFunction type describes only the single-address callback; with `all: true`
    // (Node's default for happy eyeballs) Node expects the array form.
    const reply = callback as (error: Error | null, address: unknown, family?: number) => void;
    if (typeof options === 'object' && options.all) reply(null, chosen);
    else reply(null, chosen[0]?.address, chosen[0]?.family);
  };
}

function decoded(response: IncomingMessage): Readable {
  switch ((response.headers['content-encoding'] ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return response.pipe(createGunzip());
    case 'deflate':
      return response.pipe(createInflate());
    case 'br':
      return response.pipe(createBrotliDecompress());
    default:
      return response;
  }
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The document at the URL is larger than the limit of ${maxBytes} bytes.`);
}

/** Reads the body, decompressed, and stops as soon as it passes `maxBytes`. */
async function readBody(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge(maxBytes);
  }
  const body = decoded(response);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of body) {
      const buffer = part as Buffer;
      size += buffer.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      parts.push(buffer);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new ValidationError('The URL could not be fetched: the response could not be read.', {
      cause: error,
    });
  } finally {
    response.destroy();
    if (body !== response) body.destroy();
  }
  return new Uint8Array(Buffer.concat(parts, size));
}

/** One GET without following redirects, connecting only to `addresses`. */
export async function requestOnce(
  url: URL,
  addresses: readonly PinnedAddress[],
  { signal, maxBytes }: { signal: AbortSignal; maxBytes: number },
): Promise<HopResult> {
  const transport = url.protocol === 'https:' ? https : http;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = transport.request(url, {
      // Stryker disable next-line StringLiteral: Node sends GET when the method is empty
      method: 'GET',
      headers,
      signal,
      lookup: pinnedLookup(addresses),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
  const status = response.statusCode ?? 0;
  const location = response.headers.location;
  if (status >= 300 && status < 400 && location) {
    response.resume();
    response.destroy();
    // Stryker disable next-line StringLiteral: callers tell the two results apart by kind === 'document' only
    return { kind: 'redirect', location };
  }
  if (status < 200 || status >= 300) {
    response.destroy();
    throw new ValidationError(`The URL could not be fetched: the server answered ${status}.`);
  }
  const bytes = await readBody(response, maxBytes);
  return { kind: 'document', document: { bytes, contentType: response.headers['content-type'] } };
}
