import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '#shared/domain/errors.ts';
import { fetchUrl, type HostLookup } from '#shared/rag/fetch/index.ts';

const resolvesTo =
  (table: Record<string, string[]>): HostLookup =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

/** The test server listens on loopback, which the guard refuses; only this address is let through. */
const allowTestServer = (address: string) => address === '127.0.0.1';

async function refusal(url: string, options: Parameters<typeof fetchUrl>[1] = {}): Promise<string> {
  const error = await fetchUrl(url, { lookup: resolvesTo({}), ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).message;
}

describe('fetchUrl SSRF guard', () => {
  it('when the scheme is not http or https then it is refused', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/x',
      'gopher://example.com',
      'data:text/plain,hi',
    ]) {
      expect(await refusal(url)).toBe('URL refused: only http and https URLs can be fetched.');
    }
    expect(await refusal('not a url')).toBe('URL refused: it is not a valid URL.');
    expect(await refusal('http://user:secret@example.com/')).toMatch(/user name or password/);
  });

  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.1', 'a loopback address'],
    ['2130706433', 'a loopback address'],
    ['0x7f.0.0.1', 'a loopback address'],
    ['10.0.0.5', 'a private address'],
    ['172.16.3.4', 'a private address'],
    ['192.168.0.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
    ['0.0.0.0', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a broadcast address'],
    ['240.0.0.1', 'a reserved address'],
  ])('when the host is the IPv4 address %s then it is refused as %s', async (host, reason) => {
    expect(await refusal(`http://${host}/latest/meta-data/`)).toBe(`URL refused: it is ${reason}.`);
  });

  it.each([
    ['::1', 'a loopback address'],
    ['::', 'an unspecified address'],
    ['fc00::1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['fe80::1', 'a link-local address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:169.254.169.254', 'a link-local address'],
    ['64:ff9b::a9fe:a9fe', 'a reserved address'],
    ['2002:7f00:1::', 'a reserved address'],
    ['ff02::1', 'a multicast address'],
  ])('when the host is the IPv6 address %s then it is refused as %s', async (host, reason) => {
    expect(await refusal(`http://[${host}]/`)).toBe(`URL refused: it is ${reason}.`);
  });

  it('when a host name resolves to a private address then it is refused', async () => {
    const lookup = resolvesTo({
      'intranet.example': ['10.1.2.3'],
      'mixed.example': ['93.184.216.34', '192.168.1.1'],
    });
    expect(await refusal('https://intranet.example/', { lookup })).toBe(
      'URL refused: it resolves to a private address.',
    );
    expect(await refusal('https://mixed.example/', { lookup })).toBe(
      'URL refused: it resolves to a private address.',
    );
    const metadata = resolvesTo({ 'metadata.example': ['::ffff:169.254.169.254'] });
    expect(await refusal('http://metadata.example/', { lookup: metadata })).toBe(
      'URL refused: it resolves to a link-local address.',
    );
  });

  it('when a host name does not resolve then it says so', async () => {
    expect(await refusal('https://nowhere.example/')).toBe(
      'The URL could not be fetched: its host name does not resolve.',
    );
  });
});

describe('fetchUrl against a local server', () => {
  let server: Server;
  let base: string;
  let port: number;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path === '/doc') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end('<p>hello</p>');
      } else if (path === '/host') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(request.headers.host);
      } else if (path === '/to-doc') {
        response.writeHead(302, { location: '/doc' });
        response.end();
      } else if (path === '/to-metadata') {
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        response.end();
      } else if (path === '/to-internal-name') {
        response.writeHead(301, { location: `http://internal.example:${port}/doc` });
        response.end();
      } else if (path.startsWith('/loop')) {
        response.writeHead(307, { location: `/loop${path.length}` });
        response.end();
      } else if (path === '/big') {
        response.writeHead(200, { 'content-length': String(5000) });
        response.end('x'.repeat(5000));
      } else if (path === '/big-chunked') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 50; i++) response.write('y'.repeat(1000));
        response.end();
      } else if (path === '/gzip') {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        response.end(gzipSync('compressed hello'));
      } else if (path === '/slow') {
        response.writeHead(200);
        response.write('partial');
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const allowed = { unsafeAllowAddressForTests: allowTestServer };

  it('when nothing is allowed then the guard refuses the loopback test server itself', async () => {
    expect(await refusal(`${base}/doc`)).toBe('URL refused: it is a loopback address.');
  });

  it('when the server redirects to the metadata address then the redirect is refused', async () => {
    expect(await refusal(`${base}/to-metadata`, allowed)).toBe(
      'URL refused: it is a link-local address (after a redirect).',
    );
  });

  it('when the server redirects to a name that resolves to the metadata address then it is refused', async () => {
    const lookup = resolvesTo({ 'internal.example': ['169.254.169.254'] });
    expect(await refusal(`${base}/to-internal-name`, { ...allowed, lookup })).toBe(
      'URL refused: it resolves to a link-local address (after a redirect).',
    );
  });

  it('when redirects are allowed then it follows them and reports the final URL', async () => {
    const fetched = await fetchUrl(`${base}/to-doc`, allowed);
    expect(new TextDecoder().decode(fetched.bytes)).toBe('<p>hello</p>');
    expect(fetched.contentType).toBe('text/html; charset=utf-8');
    expect(fetched.finalUrl).toBe(`${base}/doc`);
  });

  it('when a name resolves then the connection goes to the checked address, not a new lookup', async () => {
    const lookup = resolvesTo({ 'pinned.invalid': ['127.0.0.1'] });
    const fetched = await fetchUrl(`http://pinned.invalid:${port}/host`, { ...allowed, lookup });
    expect(new TextDecoder().decode(fetched.bytes)).toBe(`pinned.invalid:${port}`);
  });

  it('when redirects go on and on then it stops after five', async () => {
    expect(await refusal(`${base}/loop`, allowed)).toBe('URL refused: more than 5 redirects.');
  });

  it('when the body is larger than the limit then PayloadTooLargeError is thrown', async () => {
    await expect(fetchUrl(`${base}/big`, { ...allowed, maxBytes: 1000 })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await expect(fetchUrl(`${base}/big-chunked`, { ...allowed, maxBytes: 10_000 })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect((await fetchUrl(`${base}/big`, { ...allowed, maxBytes: 5000 })).bytes).toHaveLength(5000);
  });

  it('when the body is compressed then it is decompressed', async () => {
    const fetched = await fetchUrl(`${base}/gzip`, allowed);
    expect(new TextDecoder().decode(fetched.bytes)).toBe('compressed hello');
  });

  it('when the server is too slow then it times out with a readable error', async () => {
    const started = Date.now();
    expect(await refusal(`${base}/slow`, { ...allowed, timeoutMs: 300 })).toBe(
      'The URL could not be fetched: no complete answer within 0.3 s.',
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('when the server answers with an error status then it says which', async () => {
    expect(await refusal(`${base}/missing`, allowed)).toBe(
      'The URL could not be fetched: the server answered 404.',
    );
  });

  it('when nothing listens then the connection failure is readable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await refusal(`http://127.0.0.1:${closedPort}/`, allowed)).toBe(
      'The URL could not be fetched: the connection to the server failed.',
    );
  });
});
