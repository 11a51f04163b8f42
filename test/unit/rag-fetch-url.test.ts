import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '#shared/domain/errors.ts';
import { fetchUrl, type HostLookup, nonPublicAddressReason, pinnedLookup } from '#shared/rag/fetch/index.ts';

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

describe('nonPublicAddressReason', () => {
  // A resolver only ever hands back valid addresses, so fetchUrl cannot reach this branch.
  it('when the address is not an IP address at all then it is refused as not valid', () => {
    for (const address of ['', 'example.com', '999.1.1.1', '::g']) {
      expect(nonPublicAddressReason(address), address).toBe('an address that is not valid');
    }
    expect(nonPublicAddressReason('93.184.216.34')).toBeUndefined();
  });
});

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
    expect(await refusal('http://user@example.com/')).toMatch(/user name or password/);
    expect(await refusal('http://:secret@example.com/')).toMatch(/user name or password/);
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

  const EMBEDS_IPV4 = 'an IPv6 address that embeds an IPv4 address';
  it.each([
    ['::1', 'a loopback address'],
    ['::', 'an unspecified address'],
    ['fc00::1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['fe80::1', 'a link-local address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:169.254.169.254', 'a link-local address'],
    ['64:ff9b::a9fe:a9fe', EMBEDS_IPV4],
    ['64:ff9b:1::a9fe:a9fe', EMBEDS_IPV4],
    ['2002:7f00:1::', EMBEDS_IPV4],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', EMBEDS_IPV4],
    ['::ffff:0:7f00:1', EMBEDS_IPV4],
    // IPv4-compatible (::/96): the IPv4 address in the low 32 bits, in every spelling.
    ['::7f00:1', EMBEDS_IPV4],
    ['::127.0.0.1', EMBEDS_IPV4],
    ['::a9fe:a9fe', EMBEDS_IPV4],
    ['::169.254.169.254', EMBEDS_IPV4],
    ['::a00:1', EMBEDS_IPV4],
    ['0:0:0:0:0:0:5db8:d822', EMBEDS_IPV4],
    ['ff02::1', 'a multicast address'],
    // Outside global unicast 2000::/3: nothing routable on the internet lives there.
    ['100::1', 'a reserved address'],
    ['4000::1', 'a reserved address'],
    ['2001:db8::1', 'a reserved address'],
  ])('when the host is the IPv6 address %s then it is refused as %s', async (host, reason) => {
    expect(await refusal(`http://[${host}]/`)).toBe(`URL refused: it is ${reason}.`);
  });

  it.each(['93.184.216.34', '::ffff:93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e'])(
    'when the address is the public %s then it passes',
    (address) => {
      expect(nonPublicAddressReason(address)).toBeUndefined();
    },
  );

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
    // A resolver that answers with no address at all is no better than one that fails.
    expect(await refusal('https://empty.example/', { lookup: resolvesTo({ 'empty.example': [] }) })).toBe(
      'The URL could not be fetched: its host name does not resolve.',
    );
  });

  it('when no resolver is given then the system resolver is used and its answers are checked too', async () => {
    // localhost is in every hosts file: the system's answer must go through the same guard.
    const error = await fetchUrl('http://localhost/').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('URL refused: it resolves to a loopback address.');
  });
});

describe('pinnedLookup', () => {
  const v4 = { address: '93.184.216.34', family: 4 } as const;
  const v6 = { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 } as const;
  /** What the socket would be told for a lookup with these options. */
  const answer = (options: unknown) => {
    let reply: unknown[] = [];
    const lookup = pinnedLookup([v6, v4]) as unknown as (
      host: string,
      options: unknown,
      callback: (...args: unknown[]) => void,
    ) => void;
    lookup('example.com', options, (...args) => {
      reply = args;
    });
    return reply;
  };

  it('when every address is asked for then it answers with all the checked addresses, whatever the host', () => {
    expect(answer({ all: true })).toEqual([null, [v6, v4]]);
    expect(answer({ all: true, family: 0 })).toEqual([null, [v6, v4]]);
  });

  it('when one family is asked for then it answers only with checked addresses of that family', () => {
    expect(answer({ family: 4 })).toEqual([null, v4.address, 4]);
    expect(answer({ family: 6 })).toEqual([null, v6.address, 6]);
    expect(answer({ family: 'IPv4', all: true })).toEqual([null, [v4]]);
    expect(answer({ family: 'IPv6', all: true })).toEqual([null, [v6]]);
  });

  it('when no checked address has the asked family then it still answers only with checked addresses', () => {
    const lookup = pinnedLookup([v4]) as unknown as (
      host: string,
      options: unknown,
      callback: (...args: unknown[]) => void,
    ) => void;
    let reply: unknown[] = [];
    lookup('example.com', { family: 6 }, (...args) => {
      reply = args;
    });
    expect(reply).toEqual([null, v4.address, 4]);
  });

  it('when the options are not an object then the first checked address is the answer', () => {
    expect(answer(undefined)).toEqual([null, v6.address, 6]);
    expect(answer(4)).toEqual([null, v6.address, 6]);
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
      } else if (path === '/headers') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(request.headers));
      } else if (path.startsWith('/hops/')) {
        const left = Number(path.slice('/hops/'.length));
        response.writeHead(302, { location: left > 0 ? `/hops/${left - 1}` : '/doc' });
        response.end();
      } else if (path === '/300') {
        response.writeHead(300, { location: '/doc' });
        response.end();
      } else if (path === '/300-without-location') {
        response.writeHead(300);
        response.end('choose');
      } else if (path === '/400-with-location') {
        response.writeHead(400, { location: '/doc' });
        response.end();
      } else if (path === '/ok-with-location') {
        response.writeHead(200, { 'content-type': 'text/plain', location: '/doc' });
        response.end('the document itself');
      } else if (path === '/deflate') {
        response.writeHead(200, { 'content-encoding': 'deflate' });
        response.end(deflateSync('deflated hello'));
      } else if (path === '/br') {
        response.writeHead(200, { 'content-encoding': 'br' });
        response.end(brotliCompressSync('brotli hello'));
      } else if (path === '/gzip-spelled-loosely') {
        response.writeHead(200, { 'content-encoding': ' GZIP ' });
        response.end(gzipSync('loose hello'));
      } else if (path === '/broken-gzip') {
        response.writeHead(200, { 'content-encoding': 'gzip' });
        response.end('this is not gzip at all');
      } else if (path === '/declared-big-never-sent') {
        // Declares more than the limit and then sends nothing: only the declaration can refuse it in time.
        response.writeHead(200, { 'content-length': String(1_000_000) });
        response.flushHeaders();
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
    const text = async (path: string) =>
      new TextDecoder().decode((await fetchUrl(`${base}${path}`, allowed)).bytes);
    expect(await text('/deflate')).toBe('deflated hello');
    expect(await text('/br')).toBe('brotli hello');
    expect(await text('/gzip-spelled-loosely')).toBe('loose hello');
  });

  it('when the compressed body is corrupt then it says the response could not be read', async () => {
    expect(await refusal(`${base}/broken-gzip`, allowed)).toBe(
      'The URL could not be fetched: the response could not be read.',
    );
  });

  it('when the request goes out then it names MiniRAG and asks only for encodings it can decode', async () => {
    const sent = JSON.parse(new TextDecoder().decode((await fetchUrl(`${base}/headers`, allowed)).bytes));
    expect(sent['user-agent']).toMatch(/^MiniRAG\//);
    expect(sent['accept-encoding']).toBe('gzip, deflate, br');
    expect(sent.accept).toMatch(/text\/html/);
  });

  it('when the limit is not given then documents up to 20 MiB are read', async () => {
    expect((await fetchUrl(`${base}/big`, allowed)).bytes).toHaveLength(5000);
  });

  it('when the declared length is over the limit then it is refused before the body arrives', async () => {
    const error = await fetchUrl(`${base}/declared-big-never-sent`, {
      ...allowed,
      maxBytes: 1000,
      timeoutMs: 5000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toBe('The document at the URL is larger than the limit of 1000 bytes.');
  });

  it('when there are exactly five redirects then they are followed; six are refused', async () => {
    const fetched = await fetchUrl(`${base}/hops/4`, allowed); // /hops/4 … /hops/0, then /doc: five redirects
    expect(fetched.finalUrl).toBe(`${base}/doc`);
    expect(await refusal(`${base}/hops/5`, allowed)).toBe('URL refused: more than 5 redirects.');
  });

  it('when a 3xx has a Location then it is a redirect, without one it is an error; other statuses are not redirects', async () => {
    expect((await fetchUrl(`${base}/300`, allowed)).finalUrl).toBe(`${base}/doc`);
    expect(await refusal(`${base}/300-without-location`, allowed)).toBe(
      'The URL could not be fetched: the server answered 300.',
    );
    expect(await refusal(`${base}/400-with-location`, allowed)).toBe(
      'The URL could not be fetched: the server answered 400.',
    );
    const ok = await fetchUrl(`${base}/ok-with-location`, allowed);
    expect(ok.finalUrl).toBe(`${base}/ok-with-location`);
    expect(new TextDecoder().decode(ok.bytes)).toBe('the document itself');
  });

  it("when the caller aborts then the caller's reason is thrown, not a fetch error", async () => {
    const controller = new AbortController();
    const reason = new Error('the ingestion was cancelled');
    setTimeout(() => controller.abort(reason), 100);
    const error = await fetchUrl(`${base}/slow`, { ...allowed, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(reason);
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
