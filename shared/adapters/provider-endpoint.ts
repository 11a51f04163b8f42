import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { ValidationError } from '../domain/errors.ts';
import {
  addressRefusal,
  type EndpointPolicy,
  type HostLookup,
  hostOf,
  type PinnedAddress,
  pinnedLookup,
  providerEndpointRefusal,
} from '../rag/fetch/index.ts';

export type { EndpointPolicy };

const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/**
 * A `fetch` for one chat with a bot's own base_url, guarded against server-side request forgery as URL
 * sources are: every address the host resolves to must be public (loopback only in local mode), and
 * the connection goes to exactly those addresses (a pinned lookup), so a second DNS answer cannot slip
 * a private address in. Redirects are not followed. Throws a ValidationError naming the reason.
 */
export async function pinnedProviderFetch(baseUrl: string, policy: EndpointPolicy): Promise<typeof fetch> {
  const refusal = providerEndpointRefusal(baseUrl, policy);
  if (refusal) throw new ValidationError(`The bot's ${refusal}.`);
  const url = new URL(baseUrl);
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: PinnedAddress[];
  if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    addresses = await (policy.lookup ?? systemLookup)(host).then(
      (found) => [...found],
      () => [],
    );
    if (addresses.length === 0) throw new ValidationError("The bot's base_url host name does not resolve.");
    for (const { address } of addresses) {
      const reason = addressRefusal(address, policy);
      if (reason) throw new ValidationError(`The bot's base_url resolves to ${reason}.`);
    }
  }
  const dispatcher = new Agent({ connect: { lookup: pinnedLookup(addresses) } });
  const origin = url.origin;
  // The SDKs call fetch with their own RequestInit; undici's fetch takes the same shape plus a dispatcher.
  const guarded = async (input: string | URL | Request, init?: RequestInit) => {
    const target = new URL(input instanceof Request ? input.url : input);
    if (target.origin !== origin) throw new ValidationError("A request left the bot's base_url origin.");
    const response = await undiciFetch(target, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
      redirect: 'error',
    });
    return response as unknown as Response;
  };
  return guarded as typeof fetch;
}
