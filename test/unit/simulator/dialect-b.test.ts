import { afterAll, describe, expect, it } from 'vitest';
import { json, simulator } from './helpers.js';

type Product = {
  productCode: string;
  name: string;
  dateUpdated: string;
  images?: { itemUrl: string }[];
  imageTemplates?: { url: string }[];
};
type Envelope = {
  requestStatus: { success: boolean; error?: { errorCode: string; errorMessage: string } };
  products: Product[];
};

describe('dialect B (offset paging)', () => {
  const started = simulator([
    {
      id: 'rez',
      dialect: 'B',
      seed: 'b',
      tourCount: 45,
      imagesPerTour: { min: 1, max: 3 },
      credentials: { apiKey: 'key-b' },
    },
  ]);
  afterAll(async () => (await started).close());

  async function list(query: string): Promise<Envelope> {
    const op = (await started).operator('rez');
    const res = await fetch(`${op.baseUrl}/v1/products?${query}`);
    expect(res.status).toBe(200);
    return json<Envelope>(res);
  }

  async function all(extra = ''): Promise<Product[]> {
    const out: Product[] = [];
    for (let offset = 0; ; offset += 20) {
      const page = await list(`limit=20&offset=${offset}&apiKey=key-b${extra}`);
      expect(page.requestStatus.success).toBe(true);
      out.push(...page.products);
      if (page.products.length < 20) return out;
    }
  }

  it('pages by offset in productCode order and ends on a short page', async () => {
    const products = await all();
    expect(products).toHaveLength(45);
    const codes = products.map((p) => p.productCode);
    expect([...codes].sort()).toEqual(codes);
    // Both image styles occur, deterministically.
    expect(products.some((p) => p.images)).toBe(true);
    const templated = products.find((p) => p.imageTemplates?.length);
    expect(templated?.imageTemplates?.[0].url).toMatch(/\/img\/p\d+\/\[format_id\]\.jpg$/);
    const img = await fetch(templated!.imageTemplates![0].url.replace('[format_id]', 'thumb'));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
  });

  it('filters by updatedSince and drops removed products', async () => {
    const op = (await started).operator('rez');
    const since = new Date(Date.now() - 1).toISOString();
    const [first, second] = op.activeCodes();
    op.change(first);
    op.remove(second);
    const delta = await all(`&updatedSince=${encodeURIComponent(since)}`);
    expect(delta.map((p) => p.productCode)).toEqual([first]);
    expect(delta[0].name).toMatch(/\(rev 1\)$/);
    const everything = await all();
    expect(everything).toHaveLength(44);
    expect(everything.map((p) => p.productCode)).not.toContain(second);
    const gone = await fetch(`${op.baseUrl}/v1/products/${second}?apiKey=key-b`);
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ requestStatus: { success: false } });
    const found = await json<{ product: Product }>(
      await fetch(`${op.baseUrl}/v1/products/${first}?apiKey=key-b`),
    );
    expect(found.product.productCode).toBe(first);
  });

  it('shifts offsets when a product is added mid-scan (codes insert in the middle)', async () => {
    const op = (await started).operator('rez');
    const before = await all();
    const [added] = op.add(1);
    const after = await all();
    const pos = after.findIndex((p) => p.productCode === added.code);
    expect(after).toHaveLength(before.length + 1);
    expect(pos).toBeGreaterThanOrEqual(0);
    expect(pos).toBeLessThan(after.length - 1);
  });

  it('reports a bad apiKey inside a 200 with success:false', async () => {
    const body = await list('limit=10&offset=0&apiKey=wrong');
    expect(body.requestStatus).toEqual({
      success: false,
      error: { errorCode: 'AUTHENTICATION_FAILED', errorMessage: expect.any(String) },
    });
    const tooMany = await list('limit=101&apiKey=key-b');
    expect(tooMany.requestStatus.success).toBe(false);
  });
});
