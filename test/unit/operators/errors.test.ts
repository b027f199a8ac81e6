import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  OperatorApplicationError,
  OperatorThrottledError,
  applicationError,
  excerpt,
  parseRetryAfter,
  redactUrl,
} from '../../../src/operators/errors.js';
import { createRateLimiter } from '../../../src/operators/rate-limit.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-05-01T10:00:00Z');
  it('reads delta-seconds, HTTP dates and reset headers, capped, undefined when absent', () => {
    expect(parseRetryAfter({ 'retry-after': '12' }, now)).toBe(12_000);
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 May 2024 10:01:30 GMT' }, now)).toBe(90_000);
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 May 2024 09:00:00 GMT' }, now)).toBe(0);
    expect(parseRetryAfter({ 'ratelimit-reset': '45' }, now)).toBe(45_000);
    expect(parseRetryAfter({ 'x-ratelimit-reset': String(now / 1000 + 60) }, now)).toBe(60_000);
    expect(parseRetryAfter({ 'retry-after': '3600' }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });
});

describe('redaction and classification', () => {
  it('redacts key-like query parameters and URL credentials', () => {
    expect(redactUrl('http://u:p@h/ops/b/v1/products?limit=1&apiKey=abc&signature=xyz')).toBe(
      'http://h/ops/b/v1/products?limit=1&apiKey=REDACTED&signature=REDACTED',
    );
  });

  it('classifies errors reported inside a 200', () => {
    expect(applicationError('u', 'INVALID_API_KEY', 'bad key')).toMatchObject({
      retryable: false,
      code: 'INVALID_API_KEY',
    });
    expect(applicationError('u', 'SERVICE_UNAVAILABLE', '')).toMatchObject({
      retryable: true,
      type: 'OperatorApplicationError',
    });
    expect(applicationError('u', 'RATE_LIMIT_EXCEEDED', '')).toBeInstanceOf(OperatorThrottledError);
    expect(applicationError('u', 'VALIDATION', '')).toBeInstanceOf(OperatorApplicationError);
  });

  it('keeps excerpts on one line and at most 200 characters', () => {
    const e = excerpt(`a\n\n${'b'.repeat(500)}`);
    expect(e.length).toBe(200);
    expect(e).not.toContain('\n');
  });
});

describe('rate limiter', () => {
  it('spaces requests beyond the burst at the configured rate', async () => {
    const limiter = createRateLimiter(20, 1);
    const started = Date.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});
