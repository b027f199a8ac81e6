import type dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { UnsafeUrlError } from '../../../src/net/errors.js';
import {
  assertSafeUrl,
  createSafeLookup,
  isAddressAllowed,
  parseAllowlist,
} from '../../../src/net/safe-url.js';

const none = parseAllowlist([]);

describe('assertSafeUrl', () => {
  it.each([
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f000001/',
    'http://0x7f.0.0.1/',
    'http://good@127.0.0.1/',
    'http://good.example.com@127.0.0.1:8080/x.jpg',
    'http://[::1]/',
    'http://[::]/',
    'http://0.0.0.0/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://172.31.255.254/',
    'http://192.168.1.10/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[64:ff9b::7f00:1]/',
    'https://[2002:7f00:1::]/',
  ])('refuses private address %s', (url) => {
    expect(() => assertSafeUrl(url, none)).toThrow(UnsafeUrlError);
    try {
      assertSafeUrl(url, none);
    } catch (err) {
      expect((err as UnsafeUrlError).reason).toBe('private-address');
      expect((err as UnsafeUrlError).type).toBe('UnsafeUrl');
      expect((err as UnsafeUrlError).nonRetryable).toBe(true);
    }
  });

  it.each([
    'file:///etc/passwd',
    'data:image/png;base64,iVBORw0KGgo=',
    'ftp://example.com/a.jpg',
    'gopher://example.com/',
    'javascript:alert(1)',
    'http://unix:/var/run/docker.sock:/containers/json',
  ])('refuses scheme of %s', (url) => {
    expect(() => assertSafeUrl(url, none)).toThrow(expect.objectContaining({ reason: 'scheme' }));
  });

  it('refuses what is not a URL', () => {
    expect(() => assertSafeUrl('not a url', none)).toThrow(
      expect.objectContaining({ reason: 'invalid-url' }),
    );
  });

  it('accepts public hosts and addresses', () => {
    expect(assertSafeUrl('https://images.example.com/a.jpg', none).hostname).toBe('images.example.com');
    expect(() => assertSafeUrl('http://93.184.216.34/a.jpg', none)).not.toThrow();
    expect(() => assertSafeUrl('http://[2606:4700::1111]/a.jpg', none)).not.toThrow();
  });

  it('accepts allowlisted hostnames, addresses and CIDRs only', () => {
    expect(() => assertSafeUrl('http://127.0.0.1:4010/', parseAllowlist(['127.0.0.1']))).not.toThrow();
    expect(() => assertSafeUrl('http://127.0.0.2:4010/', parseAllowlist(['127.0.0.1']))).toThrow(
      UnsafeUrlError,
    );
    expect(() => assertSafeUrl('http://127.9.9.9/', parseAllowlist(['127.0.0.0/8']))).not.toThrow();
    expect(() => assertSafeUrl('http://[::ffff:127.0.0.1]/', parseAllowlist(['127.0.0.0/8']))).not.toThrow();
    expect(() => assertSafeUrl('http://[::1]/', parseAllowlist(['::1']))).not.toThrow();
    expect(() => assertSafeUrl('http://10.0.0.1/', parseAllowlist(['127.0.0.0/8', 'localhost']))).toThrow(
      UnsafeUrlError,
    );
  });
});

describe('isAddressAllowed', () => {
  it('judges IPv4-mapped IPv6 as the IPv4 address it is', () => {
    expect(isAddressAllowed('::ffff:7f00:1', none)).toBe(false);
    expect(isAddressAllowed('::ffff:5db8:d822', none)).toBe(true); // 93.184.216.34
  });
});

/** A resolver standing in for DNS answers we cannot get from the real one offline. */
function fakeResolver(answers: Record<string, string[]>): typeof dns.lookup {
  return ((host: string, _opts: unknown, cb: (e: Error | null, a: dns.LookupAddress[]) => void) => {
    const list = answers[host];
    if (!list) return cb(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    cb(
      null,
      list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as unknown as typeof dns.lookup;
}

function lookup(fn: typeof dns.lookup, host: string, all: boolean) {
  return new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => {
    (
      fn as unknown as (
        h: string,
        o: object,
        cb: (e: NodeJS.ErrnoException | null, a: unknown) => void,
      ) => void
    )(host, { all }, (err, result) => resolve({ err, result }));
  });
}

describe('createSafeLookup', () => {
  const resolver = fakeResolver({
    'rebind.example': ['169.254.169.254'],
    'mixed.example': ['10.0.0.5', '93.184.216.34'],
    'public.example': ['93.184.216.34', '2606:4700::1111'],
    'sim.internal': ['127.0.0.1'],
  });

  it('refuses a name that resolves only to private addresses', async () => {
    const { err } = await lookup(createSafeLookup(none, resolver), 'rebind.example', false);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect((err as unknown as UnsafeUrlError).reason).toBe('dns-resolved-private');
  });

  it('connects only to the allowed addresses of a mixed answer', async () => {
    const one = await lookup(createSafeLookup(none, resolver), 'mixed.example', false);
    expect(one).toEqual({ err: null, result: '93.184.216.34' });
    const all = await lookup(createSafeLookup(none, resolver), 'mixed.example', true);
    expect(all.result).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('passes public answers and allowlisted names through', async () => {
    expect((await lookup(createSafeLookup(none, resolver), 'public.example', true)).result).toHaveLength(2);
    const sim = await lookup(
      createSafeLookup(parseAllowlist(['sim.internal']), resolver),
      'sim.internal',
      false,
    );
    expect(sim).toEqual({ err: null, result: '127.0.0.1' });
  });

  it('passes DNS errors through', async () => {
    const { err } = await lookup(createSafeLookup(none, resolver), 'nx.example', false);
    expect(err?.code).toBe('ENOTFOUND');
  });
});
