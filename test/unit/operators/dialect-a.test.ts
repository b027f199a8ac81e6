import { describe, expect, it } from 'vitest';
import { TourValidationError } from '../../../src/domain/errors.js';
import { createDialectAAdapter, mapAFeedPage, mapAProduct } from '../../../src/operators/dialect-a.js';
import { fakeHttp, fixtureJson } from './fixtures.js';

const OP = 'alpine-trails';

describe('dialect A mapping (recorded feed page)', () => {
  const page = mapAFeedPage(OP, fixtureJson('a-feed-page1.json'), undefined);

  it('maps an active product, taking the largest image variant', () => {
    const [first] = page.entries;
    expect(first).toMatchObject({
      kind: 'active',
      externalId: '5010SYDNEY',
      sourceUpdatedAt: '2024-05-01T10:00:00Z',
    });
    if (first.kind !== 'active') throw new Error('expected active');
    expect(first.tour).toEqual({
      operatorId: OP,
      externalId: '5010SYDNEY',
      title: 'Glacier Hike above Zermatt',
      description: 'A guided half-day walk on the Gorner glacier.',
      durationMinutes: 240,
      price: { amount: 129.5, currency: 'CHF' },
      location: { name: 'Zermatt', country: 'Switzerland', latitude: 46.0207, longitude: 7.7491 },
      images: [
        { url: 'https://img.example.com/glacier-1600.jpg', caption: 'On the ice' },
        { url: 'https://img.example.com/matterhorn-720.jpg', caption: null },
      ],
      sourceUpdatedAt: '2024-05-01T10:00:00Z',
    });
  });

  it('fills absent optional parts with nulls and reads variable durations', () => {
    const second = page.entries[1];
    if (second.kind !== 'active') throw new Error('expected active');
    expect(second.tour).toMatchObject({
      description: '',
      durationMinutes: 120,
      price: null,
      location: null,
      images: [],
    });
  });

  it('turns a tombstone into a removed entry', () => {
    expect(page.entries[2]).toEqual({
      kind: 'removed',
      externalId: '1234OLD',
      sourceUpdatedAt: '2024-05-01T11:00:00Z',
    });
  });

  it('records a product the schema rejects as invalid, naming the field', () => {
    expect(page.entries[3]).toMatchObject({ kind: 'invalid', externalId: 'BADCUR' });
    if (page.entries[3].kind === 'invalid') expect(page.entries[3].error).toContain('field "price.currency"');
  });

  it('continues with nextCursor, which is also the delta mark so far', () => {
    expect(page.next).toBe('bGFzdDoyMDI0LTA1LTAxVDEyOjAwOjAwWnxCQURDVVI=');
    expect(page.deltaMark).toBe(page.next);
  });

  it('ends on an empty page without nextCursor; the mark is the cursor that asked for it', () => {
    const last = mapAFeedPage(OP, fixtureJson('a-feed-last.json'), 'CURSOR-2');
    expect(last).toEqual({ entries: [], next: undefined, deltaMark: 'CURSOR-2' });
  });

  it('does not follow a cursor echoed back on an empty page', () => {
    expect(mapAFeedPage(OP, { products: [], nextCursor: 'C3' }, 'C2')).toEqual({
      entries: [],
      next: undefined,
      deltaMark: 'C3',
    });
  });

  it('throws TourValidationError (not a crash) for a rejected detail', () => {
    expect(() => mapAProduct(OP, { productCode: 'X', title: '' })).toThrow(TourValidationError);
  });
});

describe('dialect A adapter requests', () => {
  it('full mode starts without cursor; delta mode resumes from the stored cursor or a timestamp', async () => {
    const http = fakeHttp(() => ({ body: { products: [] } }));
    const adapter = createDialectAAdapter({ operatorId: OP, http, apiKey: 'k-123' });
    await adapter.listPage(undefined, { mode: 'full', since: 'IGNORED', pageSize: 50 });
    await adapter.listPage(undefined, { mode: 'delta', since: 'CURSOR-9' });
    await adapter.listPage(undefined, { mode: 'delta', since: '2024-05-01T00:00:00Z' });
    await adapter.listPage('CURSOR-10', { mode: 'delta', since: 'CURSOR-9' });
    expect(http.calls.map((c) => c.path)).toEqual([
      '/partner/products/modified-since?count=50',
      '/partner/products/modified-since?count=500&cursor=CURSOR-9',
      '/partner/products/modified-since?count=500&modified-since=2024-05-01T00%3A00%3A00Z',
      '/partner/products/modified-since?count=500&cursor=CURSOR-10',
    ]);
    expect(http.calls[0].headers).toEqual({ 'exp-api-key': 'k-123', accept: 'application/json;version=2.0' });
  });

  it('fetchTour: found, 404 → not-found (no evidence), tombstone → tombstone', async () => {
    const answers: Record<string, { status?: number; body: unknown }> = {
      '/partner/products/5010SYDNEY': { body: fixtureJson('a-product.json') },
      '/partner/products/NOPE': { status: 404, body: undefined },
      '/partner/products/1234OLD': {
        body: { productCode: '1234OLD', status: 'INACTIVE', lastUpdatedAt: '2024-05-01T11:00:00Z' },
      },
    };
    const adapter = createDialectAAdapter({ operatorId: OP, http: fakeHttp((p) => answers[p]), apiKey: 'k' });
    const found = await adapter.fetchTour('5010SYDNEY');
    expect(found.kind === 'found' && found.tour.title).toBe('Glacier Hike above Zermatt');
    expect(await adapter.fetchTour('NOPE')).toEqual({ kind: 'not-found' });
    expect(await adapter.fetchTour('1234OLD')).toEqual({ kind: 'tombstone' });
  });
});
