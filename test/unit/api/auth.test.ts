import { describe, expect, it } from 'vitest';
import { authorized } from '../../../src/api/auth.js';
import { loadConfig } from '../../../src/config.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const both = { token: 'tok-3f9a', basic: { user: 'demo', password: 'pä:ss' } };

describe('API credentials', () => {
  it('accepts the bearer token and the basic user and password (a colon in the password included)', () => {
    expect(authorized('Bearer tok-3f9a', both)).toBe(true);
    expect(authorized('bearer   tok-3f9a', both)).toBe(true);
    expect(authorized(basic('demo', 'pä:ss'), both)).toBe(true);
  });

  it.each([
    ['nothing', undefined],
    ['an empty header', ''],
    ['a wrong token', 'Bearer tok-3f9b'],
    ['a prefix of the token', 'Bearer tok-3f9'],
    ['the token as basic password', basic('demo', 'tok-3f9a')],
    ['a wrong user', basic('demo2', 'pä:ss')],
    ['a wrong password', basic('demo', 'pä:s')],
    ['basic without a colon', `Basic ${Buffer.from('demo').toString('base64')}`],
    ['the password as bearer token', 'Bearer pä:ss'],
    ['another scheme', 'Digest tok-3f9a'],
  ])('refuses %s', (_, header) => {
    expect(authorized(header, both)).toBe(false);
  });

  it('accepts only the kinds configured', () => {
    expect(authorized('Bearer tok-3f9a', { basic: both.basic })).toBe(false);
    expect(authorized(basic('demo', 'pä:ss'), { token: 'tok-3f9a' })).toBe(false);
  });

  it('reads them from the environment; an empty value is unset; user and password go together', () => {
    expect(loadConfig({ API_TOKEN: 't' }).apiCredentials()).toEqual({ token: 't', basic: undefined });
    expect(loadConfig({ API_BASIC_USER: 'u', API_BASIC_PASSWORD: 'p' }).apiCredentials()).toEqual({
      token: undefined,
      basic: { user: 'u', password: 'p' },
    });
    expect(loadConfig({ API_TOKEN: '', API_BASIC_USER: '', API_BASIC_PASSWORD: '' }).apiCredentials()).toBe(
      undefined,
    );
    expect(() => loadConfig({ API_BASIC_USER: 'u' })).toThrow(
      'API_BASIC_USER and API_BASIC_PASSWORD must be set together',
    );
  });
});
