import { describe, expect, it } from 'vitest';
import { canonicalJson, tourContentHash } from '../../../src/domain/hash.js';
import type { Tour } from '../../../src/domain/tour.js';

const tour: Tour = {
  operatorId: 'alpine-trails',
  externalId: 'X1',
  title: 'Glacier hike',
  description: 'Cold.',
  durationMinutes: 240,
  price: { amount: 129.5, currency: 'CHF' },
  location: { name: 'Zermatt', country: 'Switzerland', latitude: 46, longitude: 7.7 },
  images: [
    { url: 'https://img.example.com/a.jpg', caption: null },
    { url: 'https://img.example.com/b.jpg', caption: 'B' },
  ],
  sourceUpdatedAt: '2024-05-01T10:00:00Z',
};

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  }
  return value;
}

describe('tourContentHash', () => {
  it('is a sha256 hex digest that does not depend on key order', () => {
    const hash = tourContentHash(tour);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tourContentHash(reversedKeys(tour) as Tour)).toBe(hash);
  });

  it('ignores sourceUpdatedAt, which moves without the content changing', () => {
    expect(tourContentHash({ ...tour, sourceUpdatedAt: null })).toBe(tourContentHash(tour));
    expect(tourContentHash({ ...tour, sourceUpdatedAt: '2025-01-01T00:00:00Z' })).toBe(tourContentHash(tour));
  });

  it('changes when content changes, including image order', () => {
    const base = tourContentHash(tour);
    expect(tourContentHash({ ...tour, title: 'Glacier hike!' })).not.toBe(base);
    expect(tourContentHash({ ...tour, price: { amount: 129.5, currency: 'EUR' } })).not.toBe(base);
    expect(tourContentHash({ ...tour, images: [...tour.images].reverse() })).not.toBe(base);
  });

  it('canonical JSON sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}',
    );
  });
});
