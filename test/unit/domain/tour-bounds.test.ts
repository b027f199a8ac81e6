import { describe, expect, it } from 'vitest';
import { TourValidationError } from '../../../src/domain/errors.js';
import { MAX_PRICE_AMOUNT } from '../../../src/domain/tour.js';
import { parseTour } from '../../../src/domain/validate.js';

/** Every field bounded by what its PostgreSQL column stores (src/db/migrations/001_initial.sql). */

const valid = {
  operatorId: 'coastal-walks',
  externalId: 'P1',
  title: 'Cliff path',
  description: '',
  durationMinutes: 90,
  price: { amount: 10, currency: 'GBP' },
  location: { name: 'Helston', country: 'GB', latitude: 49.96, longitude: -5.21 },
  images: [{ url: 'https://img.example.com/a.jpg', caption: null }],
  sourceUpdatedAt: '2024-05-01T10:00:00Z',
};

function rejection(candidate: unknown): TourValidationError {
  try {
    parseTour(candidate, { operatorId: 'coastal-walks', externalId: 'P1' });
  } catch (err) {
    if (err instanceof TourValidationError) return err;
    throw err;
  }
  throw new Error('expected the tour to be rejected');
}

describe('tour schema bounds', () => {
  it('accepts the largest price numeric(12,2) holds, and rejects 1e10 and 1e12 naming the price', () => {
    const max = parseTour({ ...valid, price: { amount: MAX_PRICE_AMOUNT, currency: 'EUR' } }, valid);
    expect(max.price?.amount).toBe(9_999_999_999.99);
    for (const amount of [1e10, 1e12]) {
      const e = rejection({ ...valid, price: { amount, currency: 'EUR' } });
      expect(e.field).toBe('price.amount');
      expect(e.message).toContain('field "price.amount": must be at most 9999999999.99');
    }
    expect(rejection({ ...valid, price: { amount: -0.01, currency: 'EUR' } }).field).toBe('price.amount');
  });

  it('rejects a currency that is not three letters (price_currency char(3))', () => {
    for (const currency of ['EU', 'EURO', 'eur', '']) {
      expect(rejection({ ...valid, price: { amount: 1, currency } }).field).toBe('price.currency');
    }
  });

  it('rejects a duration beyond int4 (and beyond sixty days) or not whole', () => {
    for (const durationMinutes of [2 ** 31, 1e15, 60 * 24 * 60 + 1, 1.5]) {
      expect(rejection({ ...valid, durationMinutes }).field).toBe('durationMinutes');
    }
  });

  it('bounds the length of ids and text', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ externalId: 'x'.repeat(201) }, 'externalId'],
      [{ operatorId: 'x'.repeat(201) }, 'operatorId'],
      [{ title: 'x'.repeat(501) }, 'title'],
      [{ description: 'x'.repeat(50_001) }, 'description'],
      [{ location: { ...valid.location, name: 'x'.repeat(501) } }, 'location.name'],
      [{ location: { ...valid.location, country: 'x'.repeat(101) } }, 'location.country'],
      [{ images: [{ url: `https://img.example.com/${'x'.repeat(2048)}`, caption: null }] }, 'images.0.url'],
      [{ images: [{ url: 'https://img.example.com/a.jpg', caption: 'x'.repeat(2001) }] }, 'images.0.caption'],
    ];
    for (const [change, field] of cases) expect(rejection({ ...valid, ...change }).field).toBe(field);
  });

  it('keeps coordinates on the globe', () => {
    const at = (latitude: number, longitude: number) => ({
      ...valid,
      location: { ...valid.location, latitude, longitude },
    });
    expect(rejection(at(91, 0)).field).toBe('location.latitude');
    expect(rejection(at(0, -180.5)).field).toBe('location.longitude');
  });

  it('takes only timestamps PostgreSQL stores as a real instant in years 1..9999', () => {
    for (const sourceUpdatedAt of [
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '2024-02-29T12:00:00+05:30',
    ]) {
      expect(parseTour({ ...valid, sourceUpdatedAt }, valid).sourceUpdatedAt).toBe(sourceUpdatedAt);
    }
    for (const sourceUpdatedAt of [
      '0000-06-01T00:00:00Z',
      '9999-12-31T23:30:00-01:00',
      '2023-02-29T00:00:00Z',
      'soon',
    ]) {
      const e = rejection({ ...valid, sourceUpdatedAt });
      expect(e.field).toBe('sourceUpdatedAt');
      expect(e.issueCount).toBe(1);
    }
    expect(rejection({ ...valid, sourceUpdatedAt: '0000-06-01T00:00:00Z' }).detail).toBe(
      'must lie between the years 1 and 9999',
    );
  });
});

describe('characters PostgreSQL refuses', () => {
  it('drops NUL and replaces lone surrogates in every string of the tour', () => {
    const tour = parseTour(
      {
        ...valid,
        title: '\u0000Cliff\u0000 path ',
        description: 'a\u0000b \uD800 c \uDC00 d \uD83D\uDE00',
        price: { amount: 1, currency: 'G\u0000BP' },
        location: { ...valid.location, name: 'Hel\u0000ston', country: 'G\uDBFFB' },
        images: [{ url: 'https://img.example.com/a\u0000.jpg', caption: 'cap\u0000tion' }],
      },
      valid,
    );
    expect(tour.title).toBe('Cliff path');
    expect(tour.description).toBe('ab \uFFFD c \uFFFD d \uD83D\uDE00');
    expect(tour.price?.currency).toBe('GBP');
    expect(tour.location).toMatchObject({ name: 'Helston', country: 'G\uFFFDB' });
    expect(tour.images[0]).toEqual({ url: 'https://img.example.com/a.jpg', caption: 'caption' });
    expect(JSON.stringify(tour)).not.toMatch(/\\u0000|\\ud[89ab]/i);
  });

  it('judges what is left: a title of NUL alone is empty', () => {
    expect(rejection({ ...valid, title: '\u0000\u0000' }).field).toBe('title');
  });
});
