import { describe, expect, it } from 'vitest';
import { TourValidationError } from '../../../src/domain/errors.js';
import { parseTour } from '../../../src/domain/validate.js';

const valid = {
  operatorId: 'coastal-walks',
  externalId: 'P1',
  title: 'Cliff path',
  description: '',
  durationMinutes: null,
  price: { amount: 10, currency: 'GBP' },
  location: null,
  images: [],
  sourceUpdatedAt: null,
};

describe('parseTour', () => {
  it('returns the tour when it matches the schema', () => {
    expect(parseTour(valid, { operatorId: 'coastal-walks', externalId: 'P1' })).toEqual(valid);
  });

  it('names the tour, the operator and the first failing field', () => {
    const candidate = { ...valid, price: { amount: 10, currency: 'pounds' } };
    let error: unknown;
    try {
      parseTour(candidate, { operatorId: 'coastal-walks', externalId: 'P1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TourValidationError);
    const e = error as TourValidationError;
    expect(e.field).toBe('price.currency');
    expect(e.externalId).toBe('P1');
    expect(e.type).toBe('TourValidationFailed');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^tour "P1" of operator "coastal-walks": field "price.currency": Invalid/);
  });

  it('uses dotted paths into arrays and counts further issues', () => {
    const candidate = { ...valid, title: '  ', images: [{ url: 'ftp://x/y.jpg', caption: null }] };
    expect(() => parseTour(candidate, { operatorId: 'o', externalId: 'P1' })).toThrow(
      /field "title": .*\(and 1 more issue\)/,
    );
    try {
      parseTour(
        { ...valid, images: [{ url: 'ftp://x/y.jpg', caption: null }] },
        { operatorId: 'o', externalId: 'P1' },
      );
    } catch (err) {
      expect((err as TourValidationError).field).toBe('images.0.url');
    }
  });
});
