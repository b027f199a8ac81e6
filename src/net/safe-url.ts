import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { UnsafeUrlError } from './errors.js';

/**
 * SSRF guard. Two checks, because neither is enough alone:
 * - assertSafeUrl() on every URL and redirect hop: scheme, and hosts that are IP literals
 *   (Node never calls a lookup function for a literal, so the second check cannot see them);
 * - createSafeLookup() as the socket's DNS lookup: it vets the addresses a name resolves to at
 *   the moment of connecting, so a name pointing at 127.0.0.1 (or re-bound to it after an
 *   earlier check) is refused.
 * WHATWG URL parsing normalises decimal, octal and hex IPv4 forms (2130706433, 0177.0.0.1,
 * 0x7f000001) to dotted quads before we look at them.
 */

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export interface Allowlist {
  readonly hostnames: ReadonlySet<string>;
  readonly ranges: readonly [IpAddress, number][];
}

/** Entries: host names ("localhost"), addresses ("127.0.0.1", "::1") or CIDRs ("127.0.0.0/8"). */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const hostnames = new Set<string>();
  const ranges: [IpAddress, number][] = [];
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1');
    if (!entry) continue;
    if (entry.includes('/')) {
      ranges.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry)) {
      const ip = normalise(ipaddr.parse(entry));
      ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else {
      hostnames.add(entry.replace(/\.$/, ''));
    }
  }
  return { hostnames, ranges };
}

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);

/** Throws UnsafeUrlError unless the URL is http(s) and, when its host is an IP, a public one. */
export function assertSafeUrl(input: string | URL, allow: Allowlist): URL {
  let url: URL;
  try {
    url = new URL(input.toString());
  } catch {
    throw new UnsafeUrlError('invalid-url', String(input));
  }
  if (!ALLOWED_SCHEMES.has(url.protocol)) throw new UnsafeUrlError('scheme', url.href, url.protocol);
  const host = hostOf(url);
  if (!host) throw new UnsafeUrlError('invalid-url', url.href);
  // got turns http://unix:/path/to.sock:/x into a UNIX socket request; no image host is called "unix".
  if (host === 'unix') throw new UnsafeUrlError('scheme', url.href, 'unix socket');
  if (allow.hostnames.has(host)) return url;
  if (net.isIP(host) && !isAddressAllowed(host, allow)) {
    throw new UnsafeUrlError('private-address', url.href, host);
  }
  return url;
}

/** Public unicast addresses pass; anything else only when it falls in an allowlisted range. */
export function isAddressAllowed(address: string, allow: Allowlist): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = normalise(ipaddr.parse(address));
  for (const [base, bits] of allow.ranges) {
    if (base.kind() === ip.kind() && ip.match(base, bits)) return true;
  }
  // Only 'unicast' is ipaddr's "none of the special ranges": loopback, private, link-local,
  // CGNAT, unique-local, multicast, reserved, NAT64/6to4/Teredo (which can embed private v4) all fail.
  return ip.range() === 'unicast';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A drop-in for dns.lookup (as http's `lookup` / got's `dnsLookup`) that drops disallowed
 * addresses and fails when none is left. Filtering rather than failing on the first bad one keeps
 * "localhost" usable with an allowlist of 127.0.0.1 even though it also resolves to ::1.
 */
export function createSafeLookup(allow: Allowlist, resolve: typeof dns.lookup = dns.lookup) {
  function safeLookup(
    hostname: string,
    options: LookupOptions | LookupCallback,
    callback?: LookupCallback,
  ): void {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts: LookupOptions = typeof options === 'function' ? {} : { ...options };
    const name = hostname.toLowerCase().replace(/\.$/, '');
    resolve(hostname, { ...opts, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return cb(err, opts.all ? [] : '');
      const usable = allow.hostnames.has(name)
        ? addresses
        : addresses.filter((a) => isAddressAllowed(a.address, allow));
      if (usable.length === 0) {
        const seen = addresses.map((a) => a.address).join(', ');
        const refusal = new UnsafeUrlError(
          'dns-resolved-private',
          `http://${hostname}/`,
          `${hostname} -> ${seen}`,
        );
        return cb(Object.assign(refusal, { code: 'EUNSAFEADDRESS' }), opts.all ? [] : '');
      }
      if (opts.all) return cb(null, usable);
      cb(null, usable[0].address, usable[0].family);
    });
  }
  return safeLookup as unknown as typeof dns.lookup;
}

function hostOf(url: URL): string {
  return url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** ::ffff:127.0.0.1 is 127.0.0.1 to the kernel; judge it as IPv4. */
function normalise(ip: IpAddress): IpAddress {
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (ip as ipaddr.IPv6).toIPv4Address();
  }
  return ip;
}
