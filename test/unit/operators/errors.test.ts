import { describe, expect, it } from 'vitest';
import {
  OperatorApplicationError,
  OperatorThrottledError,
  applicationError,
  excerpt,
  redactUrl,
} from '../../../src/operators/errors.js';

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
