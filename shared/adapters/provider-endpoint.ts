import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { ValidationError } from '../domain/errors.ts';
import {
  type HostLookup,
  nonPublicAddressReason,
  type PinnedAddress,
  pinnedLookup,
} from '../rag/fetch/index.ts';

export interface EndpointPolicy {
  /** Local mode (ALLOW_LOCAL_PROVIDER_URLS): a model server on this machine (loopback) is allowed. */
  readonly allowLoopback: boolean;
  /** Tests resolve names without DNS. */
  readonly lookup?: HostLookup | undefined;
}

const LOCAL_NAMES = new Set(['localhost', 'localhost.']);

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

function addressRefusal(address: string, policy: EndpointPolicy): string | undefined {
  const reason = nonPublicAddressReason(address);
  if (!reason) return undefined;
  if (reason === 'a loopback address' && policy.allowLoopback) return undefined;
  return reason;
}

/**
 * Why a bot's base_url may not be used, judged without DNS (at bot create/update): a literal address
 * that is not public, or a `localhost` name, unless loopback is allowed. A host name is judged again,
 * by its resolved addresses, each time a chat connects (`pinnedProviderFetch`).
 */
export function providerEndpointRefusal(baseUrl: string, policy: EndpointPolicy): string | undefined {
  const url = new URL(baseUrl);
  if (url.username || url.password) return 'base_url must not contain a user name or password';
  const host = hostOf(url);
  if (LOCAL_NAMES.has(host) || host.endsWith('.localhost')) {
    return policy.allowLoopback ? undefined : 'base_url is a loopback address';
  }
  if (!isIP(host)) return undefined;
  const reason = addressRefusal(host, policy);
  return reason ? `base_url is ${reason}` : undefined;
}

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
