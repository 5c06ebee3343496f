import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Webhook URLs are typed by a director, but a stolen director token must not turn the worker
// into a proxy to the metadata service (169.254.169.254), Redis on localhost or the office LAN.
// Only public unicast addresses are reached, plus the private ranges WEBHOOK_ALLOWED_PRIVATE_CIDRS
// names (a CRM on the LAN). The check runs when an endpoint is registered and again inside the
// connection's own DNS lookup at delivery, so a name that later resolves to 127.0.0.1 (DNS
// rebinding) is refused at the moment it would be dialled. ipaddr.js (fastify's proxy-addr uses
// it) classifies the ranges; hand-written masks miss the odd ones (IPv4-mapped IPv6, CGNAT, 0/8).

export class WebhookTargetError extends Error {
  readonly statusCode = 400;
  readonly code = 'VALIDATION';
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidrs(list: string): Cidr[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ipaddr.parseCIDR(s));
}

export function createTargetPolicy(allowedPrivateCidrs: string) {
  const allowed = parseCidrs(allowedPrivateCidrs);

  function allows(address: string): boolean {
    let ip = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    if (ip.range() === 'unicast') return true;
    return allowed.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
  }

  const refuse = (host: string, address: string) =>
    new WebhookTargetError(`webhook host ${host} is ${address}, not a public address (WEBHOOK_ALLOWED_PRIVATE_CIDRS can allow a private range)`);

  /** `net.connect`'s `lookup`: resolves as usual, then refuses if any address is not allowed. */
  function lookup(
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    dnsLookup(hostname, { ...options, all: true } as { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const bad = addresses.find((a) => !allows(a.address));
      if (bad) return callback(refuse(hostname, bad.address), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), []);
      callback(null, first.address, first.family);
    });
  }

  /** Throws WebhookTargetError unless every address of the URL's host is allowed. */
  async function check(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      if (!allows(host)) throw refuse(host, host);
      return;
    }
    await new Promise<void>((resolve, reject) => lookup(host, { all: true }, (err) => (err ? reject(err instanceof WebhookTargetError ? err : new WebhookTargetError(`webhook host ${host} does not resolve`)) : resolve())));
  }

  return { allows, lookup, check };
}

export type TargetPolicy = ReturnType<typeof createTargetPolicy>;
