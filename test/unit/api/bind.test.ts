import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { apiWithNothingBehindIt, type RunningApi } from './unreachable-api.js';

/**
 * Without credentials the API's pause, resume and apply-removals routes are open, so where it listens
 * matters: this host only, unless API_BIND says otherwise or credentials (or production) mean it is to
 * be reached from elsewhere.
 */
const SERVERS = { TEMPORAL_ADDRESS: 'temporal:7233', DATABASE_URL: 'postgres://u:p@postgresql:5432/db' };

describe('where the API listens', () => {
  it.each([
    ['development without credentials', {}, '127.0.0.1'],
    ['an empty API_BIND (compose passes unset so)', { API_BIND: '' }, '127.0.0.1'],
    ['a bearer token', { API_TOKEN: 't' }, '0.0.0.0'],
    ['basic auth', { API_BASIC_USER: 'u', API_BASIC_PASSWORD: 'p' }, '0.0.0.0'],
    ['production', { NODE_ENV: 'production', ...SERVERS }, '0.0.0.0'],
    ['an explicit API_BIND, over credentials', { API_BIND: '127.0.0.1', API_TOKEN: 't' }, '127.0.0.1'],
    ['an explicit API_BIND in development', { API_BIND: '0.0.0.0' }, '0.0.0.0'],
    ['an IPv6 API_BIND', { API_BIND: '::' }, '::'],
  ])('%s', (_, env, host) => {
    expect(loadConfig(env).apiBind).toBe(host);
  });

  it('refuses an API_BIND that is no IP address, naming the variable', () => {
    expect(() => loadConfig({ API_BIND: 'everywhere' })).toThrow(ConfigError);
    expect(() => loadConfig({ API_BIND: 'everywhere' })).toThrow(/API_BIND: must be an IP address/);
  });

  describe('a real listen', () => {
    const apis: RunningApi[] = [];
    afterEach(async () => {
      await Promise.all(apis.splice(0).map((a) => a.close()));
    });

    /** The API listening where the configuration of `env` says; its port. */
    async function listen(env: NodeJS.ProcessEnv): Promise<number> {
      const api = await apiWithNothingBehindIt();
      apis.push(api);
      await api.app.listen({ port: 0, host: loadConfig(env).apiBind });
      return (api.app.server.address() as AddressInfo).port;
    }
    // Linux routes all of 127.0.0.0/8 to the loopback interface: 127.0.0.2 is another address of this
    // host, which a socket on 127.0.0.1 does not answer and one on every interface does.
    const healthz = (host: string, port: number) =>
      fetch(`http://${host}:${port}/healthz`).then(
        (res) => res.status,
        (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
      );

    it('in development answers on 127.0.0.1 only', async () => {
      const port = await listen({});
      expect(await healthz('127.0.0.1', port)).toBe(200);
      expect(await healthz('127.0.0.2', port)).toBe('ECONNREFUSED');
    });

    it('with API_BIND=0.0.0.0 answers on every address of the host', async () => {
      const port = await listen({ API_BIND: '0.0.0.0' });
      expect(await healthz('127.0.0.1', port)).toBe(200);
      expect(await healthz('127.0.0.2', port)).toBe(200);
    });
  });
});
