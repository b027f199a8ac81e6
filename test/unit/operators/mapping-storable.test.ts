import { describe, expect, it } from 'vitest';
import { mapAFeedItem, mapAProduct } from '../../../src/operators/dialect-a.js';
import { mapBListItem, mapBProduct } from '../../../src/operators/dialect-b.js';
import { mapCShow } from '../../../src/operators/dialect-c.js';
import { fixtureJson, fixtureText } from './fixtures.js';

/**
 * Recorded payloads with characters PostgreSQL refuses (NUL: text and jsonb; a lone surrogate: jsonb)
 * written in: every dialect maps them to a tour that can be stored, with the NUL dropped.
 */

const NUL = '\u0000';

describe('mapping cleans what PostgreSQL refuses, in every dialect', () => {
  it('A: a NUL in the description and title is dropped; a lone surrogate becomes U+FFFD', () => {
    const raw = fixtureJson('a-product.json') as Record<string, unknown>;
    const tour = mapAProduct('alpine-trails', {
      ...raw,
      title: `Glacier${NUL} Hike`,
      description: `A guided${NUL} half-day walk \uD800on the glacier.`,
    });
    expect(tour.title).toBe('Glacier Hike');
    expect(tour.description).toBe('A guided half-day walk \uFFFDon the glacier.');
  });

  it('A: the listing entry and its tour carry the same cleaned id', () => {
    const raw = fixtureJson('a-product.json') as Record<string, unknown>;
    const entry = mapAFeedItem('alpine-trails', { ...raw, productCode: `5010${NUL}SYDNEY` }, 0);
    expect(entry).toMatchObject({ kind: 'active', externalId: '5010SYDNEY' });
    expect(entry.kind === 'active' && entry.tour?.externalId).toBe('5010SYDNEY');
  });

  it('B: a NUL in the description, caption and city is dropped', () => {
    const page = fixtureJson('b-page.json') as { products: Record<string, unknown>[] };
    const raw = page.products[0];
    const address = raw.locationAddress as Record<string, unknown>;
    const tour = mapBProduct('coastal-walks', {
      ...raw,
      description: `A 10 km walk${NUL} along the cliffs.`,
      locationAddress: { ...address, city: `Hel${NUL}ston` },
      images: [{ largeSizeUrl: 'https://img.example.com/b/cliff-large.jpg', caption: `Cove${NUL}` }],
    });
    expect(tour.description).toBe('A 10 km walk along the cliffs.');
    expect(tour.location?.name).toBe('Helston');
    expect(tour.images[0].caption).toBe('Cove');
    const entry = mapBListItem('coastal-walks', { ...raw, productCode: `PW${NUL}QF1Y` }, 0);
    expect(entry).toMatchObject({ kind: 'active', externalId: 'PWQF1Y' });
  });

  it('C: a NUL in the XML long description is dropped', () => {
    const xml = fixtureText('c-show.xml').replace('Four bars,', `Four${NUL} bars,`);
    const result = mapCShow('city-tours', xml, '12');
    if (result.kind !== 'found') throw new Error('expected the tour');
    expect(result.tour.description).toBe('<p>Four bars, eight tapas &amp; a guide who knows them all.</p>');
  });

  it('a description made storable still has to fit: NUL does not count towards its length', () => {
    const raw = fixtureJson('a-product.json') as Record<string, unknown>;
    const description = `${'x'.repeat(50_000)}${NUL.repeat(10)}`;
    expect(mapAProduct('alpine-trails', { ...raw, description }).description).toHaveLength(50_000);
  });
});
