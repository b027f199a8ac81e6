import { describe, expect, it } from 'vitest';
import { checkExitCode } from '../../../src/cli/commands/check.js';
import { EXIT } from '../../../src/cli/errors.js';
import type { Tour } from '../../../src/domain/tour.js';
import { pickImages } from '../../../src/operations/check-images.js';
import {
  createResponseLog,
  emptySteps,
  failed,
  isAuthRefusal,
  ok,
  verdict,
  type CheckReport,
  type CheckSteps,
} from '../../../src/operations/check-report.js';
import {
  OperatorApplicationError,
  OperatorConfigError,
  OperatorCredentialsError,
  OperatorHttpError,
  OperatorThrottledError,
} from '../../../src/operators/errors.js';

const URL = 'http://op.example/list';

function steps(status: Partial<Record<keyof CheckSteps, 'ok' | 'failed'>>): CheckSteps {
  const s = emptySteps(10);
  for (const [name, st] of Object.entries(status))
    Object.assign(s[name as keyof CheckSteps], st === 'ok' ? ok('') : failed(''));
  return s;
}

describe('the verdict of a check', () => {
  it('is importable only when no step failed and none was cut short', () => {
    const all = steps({ auth: 'ok', listing: 'ok', mapping: 'ok', images: 'ok', delta: 'ok' });
    expect(verdict(all, false)).toEqual({ importable: true, failed: null });
    expect(verdict(all, true)).toEqual({ importable: false, failed: null });
  });

  it('names the earliest failing class: auth, then listing (the delta too), mapping, images', () => {
    expect(verdict(steps({ auth: 'failed', listing: 'failed', images: 'failed' }), false).failed).toBe(
      'auth',
    );
    expect(verdict(steps({ mapping: 'failed', images: 'failed', delta: 'failed' }), false).failed).toBe(
      'listing',
    );
    expect(verdict(steps({ mapping: 'failed', images: 'failed' }), false).failed).toBe('mapping');
    expect(verdict(steps({ images: 'failed' }), false).failed).toBe('images');
  });

  it('never fails on rate limits alone: they inform', () => {
    expect(verdict(steps({ rateLimit: 'failed' }), false)).toEqual({ importable: true, failed: null });
  });

  it('gives each class its own exit code, and 1 for a check its deadline cut short', () => {
    const report = (r: Partial<CheckReport>) => ({ failed: null, cutShort: false, ...r }) as CheckReport;
    expect(checkExitCode(report({}))).toBe(EXIT.ok);
    expect(checkExitCode(report({ failed: 'auth' }))).toBe(EXIT.checkAuth);
    expect(checkExitCode(report({ failed: 'listing' }))).toBe(EXIT.checkListing);
    expect(checkExitCode(report({ failed: 'mapping' }))).toBe(EXIT.checkMapping);
    expect(checkExitCode(report({ failed: 'images' }))).toBe(EXIT.checkImages);
    expect(checkExitCode(report({ cutShort: true }))).toBe(EXIT.error);
    const codes = [EXIT.checkAuth, EXIT.checkListing, EXIT.checkMapping, EXIT.checkImages];
    const others = Object.entries(EXIT)
      .filter(([k]) => !k.startsWith('check'))
      .map(([, v]) => v);
    expect(new Set(codes).size).toBe(4);
    expect(codes.filter((c) => others.includes(c))).toEqual([]);
  });
});

describe('an auth refusal', () => {
  it('is a 401 or 403, an application error about credentials, or no credential at all', () => {
    expect(isAuthRefusal(new OperatorHttpError(URL, 401, ''))).toBe(true);
    expect(isAuthRefusal(new OperatorHttpError(URL, 403, ''))).toBe(true);
    expect(isAuthRefusal(new OperatorApplicationError(URL, 'AUTHENTICATION_FAILED', ''))).toBe(true);
    expect(isAuthRefusal(new OperatorApplicationError(URL, 'FAIL_AUTH', ''))).toBe(true);
    expect(isAuthRefusal(new OperatorConfigError('environment variable X is not set'))).toBe(true);
    expect(isAuthRefusal(new OperatorCredentialsError('op', URL, 400, 'FORBIDDEN', ''))).toBe(true);
  });

  it('is not a server error, a throttled request or another application error', () => {
    expect(isAuthRefusal(new OperatorHttpError(URL, 500, ''))).toBe(false);
    expect(isAuthRefusal(new OperatorHttpError(URL, 404, ''))).toBe(false);
    expect(isAuthRefusal(new OperatorThrottledError(URL, 403, 1000))).toBe(false);
    expect(isAuthRefusal(new OperatorApplicationError(URL, 'INTERNAL_ERROR', ''))).toBe(false);
  });
});

describe("the operator's responses", () => {
  it('keep the rate-limit headers seen last, whether a 429 was among them, and the operator’s clock', () => {
    const log = createResponseLog();
    log.record({
      status: 200,
      headers: { 'ratelimit-limit': '100', 'ratelimit-remaining': '99', etag: 'x' },
    });
    log.record({
      status: 200,
      headers: { 'ratelimit-remaining': '98', date: 'Wed, 04 Dec 2024 10:00:00 GMT', 'content-type': 'a' },
    });
    expect(log.headers()).toEqual({ 'ratelimit-limit': '100', 'ratelimit-remaining': '98' });
    expect(log.throttled()).toBe(false);
    expect(log.serverDate()).toBe('2024-12-04T10:00:00.000Z');
    log.record({ status: 429, headers: { 'retry-after': '2' } });
    expect(log.throttled()).toBe(true);
    expect(log.headers()['retry-after']).toBe('2');
  });

  it('count an exhausted quota answered with 403 as throttling', () => {
    const log = createResponseLog();
    log.record({ status: 403, headers: { 'x-ratelimit-remaining': '0' } });
    expect(log.throttled()).toBe(true);
  });
});

describe('the image sample', () => {
  const tour = (externalId: string, urls: string[]) =>
    ({ externalId, images: urls.map((url) => ({ url, caption: null })) }) as unknown as Tour;

  it("takes every tour's first image before any second, each URL once", () => {
    const tours = [tour('t1', ['a', 'b']), tour('t2', ['a', 'c']), tour('t3', ['d'])];
    expect(pickImages(tours, 10)).toEqual([
      { url: 'a', externalId: 't1' },
      { url: 'd', externalId: 't3' },
      { url: 'b', externalId: 't1' },
      { url: 'c', externalId: 't2' },
    ]);
    expect(pickImages(tours, 2).map((p) => p.url)).toEqual(['a', 'd']);
    expect(pickImages(tours, 0)).toEqual([]);
    expect(pickImages([], 3)).toEqual([]);
  });
});
