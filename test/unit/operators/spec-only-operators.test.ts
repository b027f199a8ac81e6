import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDialectAAdapter } from '../../../src/operators/dialect-a.js';
import { createDialectBAdapter } from '../../../src/operators/dialect-b.js';
import { createDialectDAdapter } from '../../../src/operators/dialect-d.js';
import { findInListing } from '../../../src/operators/find-in-listing.js';
import { createOperatorHttp } from '../../../src/operators/http.js';
import type { ListEntry } from '../../../src/operators/types.js';
import { SPEC_KEY, startSpecOctoServer } from '../../helpers/octo-spec-server.js';

/**
 * Operators written from ../shared/OPERATOR_DIALECTS.md alone, not by the project's simulator: A serves
 * the modified-since feed and nothing else, B its product list and nothing else. Every other path is a
 * 404. The adapters must list whole tours, page to the end, and find a pushed tour in the listing.
 */
const KEY = 'spec-key';
const products = Array.from({ length: 5 }, (_, i) => ({
  productCode: `SPEC${i}`,
  title: `Spec tour ${i}`,
  description: 'From the spec.',
  duration: { fixedDurationInMinutes: 60 },
  pricing: { summary: { fromPrice: 10 + i }, currency: 'EUR' },
  destination: { name: 'Lisbon', country: 'PT' },
  lastUpdatedAt: `2026-01-0${i + 1}T10:00:00Z`,
  images: [
    {
      isCover: true,
      caption: 'c',
      variants: [{ url: `https://img.example.com/${i}.jpg`, width: 800, height: 600 }],
    },
  ],
}));
const tombstone = { productCode: 'GONE', status: 'INACTIVE', lastUpdatedAt: '2026-01-09T10:00:00Z' };
const feed = [...products, tombstone];
const bProducts = products.map((p) => ({
  productCode: p.productCode,
  name: p.title,
  description: p.description,
  durationMinutes: 60,
  advertisedPrice: p.pricing.summary.fromPrice,
  currency: 'EUR',
  locationAddress: { city: 'Lisbon', countryCode: 'PT' },
  dateUpdated: p.lastUpdatedAt,
  images: [{ itemUrl: p.images[0].variants[0].url }],
}));
const seen: string[] = [];

function serve(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://spec');
  seen.push(url.pathname);
  const json = (status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (url.pathname === '/a/partner/products/modified-since') {
    if (req.headers['exp-api-key'] !== KEY) return json(401, { code: 'UNAUTHORIZED' });
    if (req.headers.accept !== 'application/json;version=2.0') return json(400, { code: 'BAD_REQUEST' });
    // Cursor: base64 of the index after the last product sent; ordered by (lastUpdatedAt, productCode).
    const from = Number(Buffer.from(url.searchParams.get('cursor') ?? 'MA==', 'base64').toString());
    const page = feed.slice(from, from + Number(url.searchParams.get('count')));
    const next = Buffer.from(String(from + page.length)).toString('base64');
    return json(200, page.length ? { products: page, nextCursor: next } : { products: [] });
  }
  if (url.pathname === '/b/v1/products') {
    if (url.searchParams.get('apiKey') !== KEY)
      return json(200, {
        requestStatus: { success: false, error: { errorCode: 'AUTH', errorMessage: 'key' } },
      });
    const offset = Number(url.searchParams.get('offset'));
    const limit = Number(url.searchParams.get('limit'));
    return json(200, { requestStatus: { success: true }, products: bProducts.slice(offset, offset + limit) });
  }
  json(404, { error: 'not found' });
}

describe('adapters against operators that serve only what the dialect spec promises', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer(serve);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const a = () =>
    createDialectAAdapter({
      operatorId: 'spec-a',
      http: createOperatorHttp({ baseUrl: `${base}/a` }),
      apiKey: KEY,
      detailEndpoint: false,
    });
  const b = () =>
    createDialectBAdapter({
      operatorId: 'spec-b',
      http: createOperatorHttp({ baseUrl: `${base}/b` }),
      apiKey: KEY,
      detailEndpoint: false,
    });

  it('A: the feed lists every product whole and the tombstone, page by page, with no other call', async () => {
    seen.length = 0;
    const adapter = a();
    const entries = [];
    let position: string | undefined;
    do {
      const page = await adapter.listPage(position, { mode: 'full', pageSize: 2 });
      entries.push(...page.entries);
      position = page.next;
    } while (position);
    expect(entries.filter((e) => e.kind === 'active' && e.tour).map((e) => e.externalId)).toEqual(
      products.map((p) => p.productCode),
    );
    expect(entries.filter((e) => e.kind === 'removed').map((e) => e.externalId)).toEqual(['GONE']);
    expect(new Set(seen)).toEqual(new Set(['/a/partner/products/modified-since']));
  });

  it('B: the list carries every product whole; paging ends on the short page', async () => {
    seen.length = 0;
    const adapter = b();
    const entries = [];
    let position: string | undefined;
    do {
      const page = await adapter.listPage(position, { mode: 'full', pageSize: 2 });
      entries.push(...page.entries);
      position = page.next;
    } while (position);
    expect(entries.every((e) => e.kind === 'active' && e.tour)).toBe(true);
    expect(new Set(entries.map((e) => e.externalId))).toEqual(new Set(products.map((p) => p.productCode)));
    expect(new Set(seen)).toEqual(new Set(['/b/v1/products']));
  });

  it('a pushed tour is found in the listing; an unknown one is not-found, never a removal; a tombstone is one', async () => {
    for (const adapter of [a(), b()]) {
      const found = await findInListing(adapter, 'SPEC3', undefined);
      expect(found).toMatchObject({ kind: 'found', tour: { externalId: 'SPEC3', title: 'Spec tour 3' } });
      expect(await findInListing(adapter, 'NOPE', undefined)).toEqual({ kind: 'not-found' });
    }
    expect(await findInListing(a(), 'GONE', undefined)).toEqual({ kind: 'tombstone' });
  });
});

describe('the OCTO adapter against a supplier written from the OCTO specification alone', () => {
  const started = startSpecOctoServer();
  afterAll(async () => (await started).close());
  const adapter = async (apiKey = SPEC_KEY) =>
    createDialectDAdapter({
      operatorId: 'spec-d',
      http: createOperatorHttp({ baseUrl: (await started).baseUrl }),
      apiKey,
      acceptLanguage: 'de, en;q=0.5',
    });

  it('lists every product whole from the one answer, in the language asked for', async () => {
    const entries: ListEntry[] = [];
    for await (const e of (await adapter()).streamListing!()) entries.push(e);
    expect(entries.map((e) => e.kind === 'active' && [e.externalId, e.tour?.title, e.tour?.price])).toEqual([
      ['harbour-bike', 'Hafen mit dem Rad', { amount: 24, currency: 'EUR' }],
      ['boat-charter', 'Private boat charter', { amount: 450, currency: 'EUR' }],
      ['museum-pass', 'Museum pass (24 h)', null],
    ]);
    expect((await started).requests.at(-1)).toEqual({
      path: '/products',
      capabilities: 'octo/content, octo/pricing',
      language: 'de, en;q=0.5',
    });
  });

  it('fetches one product; an unknown one is not-found; a wrong key is refused naming the operator', async () => {
    const a = await adapter();
    expect(await a.fetchTour('boat-charter')).toMatchObject({
      kind: 'found',
      tour: { externalId: 'boat-charter', durationMinutes: 240 },
    });
    expect(await a.fetchTour('no-such-product')).toEqual({ kind: 'not-found' });
    await expect((await adapter('wrong')).fetchTour('boat-charter')).rejects.toThrow(
      'operator "spec-d" refused the credentials (UNAUTHORIZED, HTTP 400)',
    );
  });
});
