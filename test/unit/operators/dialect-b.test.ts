import { describe, expect, it } from 'vitest';
import {
  createDialectBAdapter,
  mapBListItem,
  mapBProduct,
  readBEnvelope,
} from '../../../src/operators/dialect-b.js';
import { OperatorApplicationError } from '../../../src/operators/errors.js';
import type { OperatorHttp } from '../../../src/operators/http.js';
import type { ListEntry, ListOptions, OperatorAdapter } from '../../../src/operators/types.js';
import { fakeHttp, fixtureJson } from './fixtures.js';

const OP = 'coastal-walks';
const page = fixtureJson('b-page.json') as { products: Record<string, unknown>[] };

describe('dialect B mapping (recorded page)', () => {
  it('maps a product with named image sizes, preferring largeSizeUrl over itemUrl', () => {
    expect(mapBProduct(OP, page.products[0])).toEqual({
      operatorId: OP,
      externalId: 'PWQF1Y',
      title: 'Cliff Path: Lizard Point to Cadgwith',
      description: 'A 10 km walk along the most southerly cliffs of Britain.',
      durationMinutes: 210,
      price: { amount: 45, currency: 'GBP' },
      location: { name: 'Helston', country: 'GB', latitude: 49.9597, longitude: -5.2065 },
      images: [
        { url: 'https://img.example.com/b/cliff-large.jpg', caption: null },
        { url: 'https://img.example.com/b/cove.jpg', caption: null },
      ],
      sourceUpdatedAt: '2024-04-02T08:00:00Z',
    });
  });

  it('fills [format_id] templates with the configured (default: original) format', () => {
    const tour = mapBProduct(OP, page.products[1]);
    expect(tour.description).toBe('Short and sweet.');
    expect(tour.images.map((i) => i.url)).toEqual([
      'https://cdn.example.com/tours/gyg1234/original.jpg',
      'https://cdn.example.com/tours/gyg1234/b-original.jpg',
    ]);
    const custom = mapBProduct(OP, page.products[1], { imageFormatId: 'fhd' });
    expect(custom.images[0].url).toBe('https://cdn.example.com/tours/gyg1234/fhd.jpg');
  });

  it('records a rejected product as an invalid entry naming the field', () => {
    const entry = mapBListItem(OP, page.products[2], 2);
    expect(entry).toMatchObject({ kind: 'invalid', externalId: 'NEGDUR' });
    expect(entry.kind === 'invalid' && entry.error).toContain('field "durationMinutes"');
  });

  it('raises errors reported inside a 200, without echoing the key, and reads not-found as such', () => {
    let error: unknown;
    try {
      readBEnvelope(fixtureJson('b-error.json'), 'http://h/ops/x/v1/products?apiKey=s3cr3t-key-123');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperatorApplicationError);
    expect((error as OperatorApplicationError).code).toBe('INVALID_API_KEY');
    expect((error as OperatorApplicationError).retryable).toBe(false);
    expect(readBEnvelope(fixtureJson('b-notfound.json'), 'u').notFound).toBe(true);
  });
});

/** A catalog served with offset paging by a fake; `onRequest` can change it between pages. */
function catalogServer(size: number, onRequest: (n: number, catalog: Record<string, unknown>[]) => void) {
  const catalog = Array.from({ length: size }, (_, i) => ({
    ...page.products[0],
    productCode: `P${String(i * 10).padStart(4, '0')}`,
    dateUpdated: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
  }));
  let n = 0;
  const http = fakeHttp((path) => {
    const q = new URL(path, 'http://x').searchParams;
    onRequest(n++, catalog);
    const offset = Number(q.get('offset'));
    return {
      body: {
        requestStatus: { success: true },
        products: catalog.slice(offset, offset + Number(q.get('limit'))),
      },
    };
  });
  return { catalog, http };
}

async function listAll(adapter: OperatorAdapter, options: ListOptions) {
  const entries: ListEntry[] = [];
  let position: string | undefined;
  let mark: string | undefined;
  for (let i = 0; i < 100; i++) {
    const result = await adapter.listPage(position, options);
    entries.push(...result.entries);
    mark = result.deltaMark;
    position = result.next;
    if (position === undefined) return { entries, mark };
    expect(position.length).toBeLessThan(400);
  }
  throw new Error('listing did not end');
}

const product = (code: string) => ({
  ...page.products[0],
  productCode: code,
  dateUpdated: '2024-06-01T00:00:00Z',
});

describe('dialect B offset drift', () => {
  const codesOf = (entries: ListEntry[]) => entries.map((e) => e.externalId);

  it('pages through a stable catalog exactly once, ending on a short page', async () => {
    const { catalog, http } = catalogServer(45, () => undefined);
    const adapter = createDialectBAdapter({ operatorId: OP, http, apiKey: 'k' });
    const before = Date.now();
    const { entries, mark } = await listAll(adapter, { mode: 'full', pageSize: 10 });
    expect(codesOf(entries)).toEqual(catalog.map((p) => p.productCode));
    // No Date header from this operator: the mark is our time when the scan started.
    expect(Date.parse(mark!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(mark!)).toBeLessThanOrEqual(Date.now());
    expect(http.calls[1].path).toBe('/v1/products?limit=15&offset=5&apiKey=k');
  });

  it('does not double-count when products are inserted before the offset mid-scan', async () => {
    const original = catalogServer(40, () => undefined).catalog.map((p) => p.productCode);
    const { http } = catalogServer(40, (n, catalog) => {
      if (n === 2) catalog.unshift(product('A0001'), product('A0002'), product('A0003'));
    });
    const { entries } = await listAll(createDialectBAdapter({ operatorId: OP, http, apiKey: 'k' }), {
      mode: 'full',
      pageSize: 10,
    });
    const codes = codesOf(entries);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.filter((c) => c.startsWith('P'))).toEqual(original);
  });

  it('does not lose products when products before the offset disappear mid-scan', async () => {
    for (const removed of [2, 12]) {
      let gone: string[] = [];
      const { catalog, http } = catalogServer(60, (n, cat) => {
        if (n === 3) gone = cat.splice(1, removed).map((p) => String(p.productCode));
      });
      const expected = catalog.map((p) => p.productCode);
      const { entries } = await listAll(createDialectBAdapter({ operatorId: OP, http, apiKey: 'k' }), {
        mode: 'full',
        pageSize: 10,
      });
      const codes = codesOf(entries);
      expect(new Set(codes).size).toBe(codes.length);
      // Every product still in the catalog at the end was listed (the removed ones were listed before they went).
      expect(codes.sort()).toEqual(expected.sort());
      expect(gone).toHaveLength(removed);
    }
  });

  it("delta mode asks for updatedSince with a look-back; the mark is the first page's Date", async () => {
    const http = fakeHttp(() => ({ body: { requestStatus: { success: true }, products: [] } }));
    const dated: OperatorHttp = {
      ...http,
      getJson: async (path, options) => ({
        ...(await http.getJson(path, options)),
        serverDate: '2024-05-01T12:00:00.000Z',
      }),
    };
    const adapter = createDialectBAdapter({
      operatorId: OP,
      http: dated,
      apiKey: 'k',
      deltaLookbackMs: 60_000,
    });
    const result = await adapter.listPage(undefined, { mode: 'delta', since: '2024-05-01T10:00:00.000Z' });
    expect(http.calls[0].path).toBe(
      '/v1/products?limit=100&offset=0&updatedSince=2024-05-01T09%3A59%3A00.000Z&apiKey=k',
    );
    expect(result).toEqual({ entries: [], next: undefined, deltaMark: '2024-05-01T12:00:00.000Z' });
  });

  it('fetchTour: found, not-found error code → not-found, 404 → not-found', async () => {
    const answers: Record<string, { status?: number; body: unknown }> = {
      '/v1/products/PWQF1Y?apiKey=k': {
        body: { requestStatus: { success: true }, product: page.products[0] },
      },
      '/v1/products/ZZZ?apiKey=k': { body: fixtureJson('b-notfound.json') },
      '/v1/products/GONE?apiKey=k': { status: 404, body: undefined },
    };
    const adapter = createDialectBAdapter({ operatorId: OP, http: fakeHttp((p) => answers[p]), apiKey: 'k' });
    expect(await adapter.fetchTour('PWQF1Y')).toMatchObject({
      kind: 'found',
      tour: { externalId: 'PWQF1Y' },
    });
    expect(await adapter.fetchTour('ZZZ')).toEqual({ kind: 'not-found' });
    expect(await adapter.fetchTour('GONE')).toEqual({ kind: 'not-found' });
  });
});
