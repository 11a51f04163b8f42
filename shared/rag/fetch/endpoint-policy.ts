import { isIP } from 'node:net';
import type { HostLookup } from './fetch-url.ts';
import { nonPublicAddressReason } from './public-address.ts';

export interface EndpointPolicy {
  /** Local mode (ALLOW_LOCAL_PROVIDER_URLS): a model server on this machine (loopback) is allowed. */
  readonly allowLoopback: boolean;
  /** Tests resolve names without DNS. */
  readonly lookup?: HostLookup | undefined;
}

const LOCAL_NAMES = new Set(['localhost', 'localhost.']);

export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

export function addressRefusal(address: string, policy: EndpointPolicy): string | undefined {
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
