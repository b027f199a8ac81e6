import { afterAll, describe, expect, it } from 'vitest';
import { A_HEADERS, json, simulator } from './helpers.js';

type Product = {
  productCode: string;
  status: string;
  title?: string;
  lastUpdatedAt: string;
  images?: { variants: { url: string; width: number }[] }[];
};
type Page = { products: Product[]; nextCursor?: string };

describe('dialect A (cursor feed)', () => {
  const started = simulator([
    { id: 'feed', dialect: 'A', seed: 7, tourCount: 25, credentials: { apiKey: 'secret-a' } },
  ]);
  afterAll(async () => (await started).close());

  async function page(query: string): Promise<Page> {
    const op = (await started).operator('feed');
    const res = await fetch(`${op.baseUrl}/partner/products/modified-since?${query}`, {
      headers: A_HEADERS('secret-a'),
    });
    expect(res.status).toBe(200);
    return json<Page>(res);
  }

  /** Follows the feed until the empty page; returns everything and the cursor to poll with later. */
  async function drain(start?: string): Promise<{ products: Product[]; cursor?: string; pages: number }> {
    const products: Product[] = [];
    let cursor = start;
    let pages = 0;
    for (;;) {
      const p = await page(`count=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages += 1;
      products.push(...p.products);
      if (!p.nextCursor) return { products, cursor, pages };
      cursor = p.nextCursor;
    }
  }

  it('pages through everything, ordered, and ends on an empty page without a cursor', async () => {
    const { products, pages } = await drain();
    expect(products).toHaveLength(25);
    expect(pages).toBe(4);
    const keys = products.map((p) => `${p.lastUpdatedAt}|${p.productCode}`);
    expect([...keys].sort()).toEqual(keys);
    const img = products.find((p) => p.images?.length)!.images![0];
    expect(Math.max(...img.variants.map((v) => v.width))).toBe(1600);
  });

  it('returns only newer changes after a mutation, and tombstones for removals', async () => {
    const sim = await started;
    const { products, cursor } = await drain();
    expect(await page(`count=10&cursor=${encodeURIComponent(cursor!)}`)).toEqual({ products: [] });

    const op = sim.operator('feed');
    const changed = op.change(products[3].productCode);
    op.remove(products[5].productCode);
    const delta = await drain(cursor);
    expect(delta.products.map((p) => p.productCode)).toEqual([
      products[3].productCode,
      products[5].productCode,
    ]);
    expect(delta.products[0].title).toBe(changed.title);
    expect(delta.products[0].title).toMatch(/ \(rev 1\)$/);
    expect(delta.products[1]).toEqual({
      productCode: products[5].productCode,
      status: 'INACTIVE',
      lastUpdatedAt: expect.any(String),
    });
    expect(Date.parse(delta.products[1].lastUpdatedAt)).toBeGreaterThan(
      Date.parse(delta.products[0].lastUpdatedAt),
    );

    const again = await drain(delta.cursor);
    expect(again.products).toEqual([]);
    const detail = await fetch(`${op.baseUrl}/partner/products/${products[5].productCode}`, {
      headers: A_HEADERS('secret-a'),
    });
    expect(detail.status).toBe(404);
  });

  it('supports modified-since as a fallback start', async () => {
    const sim = await started;
    const op = sim.operator('feed');
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const added = op.add(2);
    const p = await page(`count=50&modified-since=${encodeURIComponent(before)}`);
    expect(p.products.map((x) => x.productCode)).toEqual(added.map((t) => t.code));
  });

  it('rejects a wrong key with 401 and a missing version Accept with 400', async () => {
    const op = (await started).operator('feed');
    const url = `${op.baseUrl}/partner/products/modified-since?count=5`;
    const wrongKey = await fetch(url, { headers: A_HEADERS('nope') });
    expect(wrongKey.status).toBe(401);
    expect(await json(wrongKey)).toMatchObject({ code: 'UNAUTHORIZED' });
    const noVersion = await fetch(url, {
      headers: { 'exp-api-key': 'secret-a', accept: 'application/json' },
    });
    expect(noVersion.status).toBe(400);
    const badCount = await fetch(`${op.baseUrl}/partner/products/modified-since?count=501`, {
      headers: A_HEADERS('secret-a'),
    });
    expect(badCount.status).toBe(400);
  });

  it('serves one product by code', async () => {
    const op = (await started).operator('feed');
    const code = op.activeCodes()[0];
    const res = await fetch(`${op.baseUrl}/partner/products/${code}`, { headers: A_HEADERS('secret-a') });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      productCode: code,
      status: 'ACTIVE',
      duration: { fixedDurationInMinutes: expect.any(Number) },
    });
    expect(
      (await fetch(`${op.baseUrl}/partner/products/VP00000000`, { headers: A_HEADERS('secret-a') })).status,
    ).toBe(404);
  });
});
