import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/net/retry-after.js';

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

  it('ignores quota-reset headers when asked to (a 503, an image host) and caps at five minutes', () => {
    expect(parseRetryAfter({ 'ratelimit-reset': '45' }, now, false)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '7', 'ratelimit-reset': '45' }, now, false)).toBe(7_000);
    expect(MAX_RETRY_AFTER_MS).toBe(5 * 60_000);
  });
});
