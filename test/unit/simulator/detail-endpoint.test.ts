import { afterAll, describe, expect, it } from 'vitest';
import { A_HEADERS, json, simulator } from './helpers.js';

/** Operators serving only what OPERATOR_DIALECTS.md promises: the listing, no per-product endpoint. */
describe('detailEndpoint: false', () => {
  const started = simulator([
    { id: 'feed-a', dialect: 'A', tourCount: 12, detailEndpoint: false, credentials: { apiKey: 'ka' } },
    { id: 'list-b', dialect: 'B', tourCount: 12, detailEndpoint: false, credentials: { apiKey: 'kb' } },
    { id: 'xml-c', dialect: 'C', tourCount: 12, detailEndpoint: false },
  ]);
  afterAll(async () => (await started).close());

  /** What the simulator answers for a path it never registered, to compare the detail 404 with. */
  async function unknownRoute(baseUrl: string) {
    const res = await fetch(`${baseUrl}/no/such/route`);
    return { status: res.status, body: await json(res) };
  }

  it('dialect A: the modified-since feed works, GET /partner/products/{code} is an unknown route', async () => {
    const op = (await started).operator('feed-a');
    const feed = await fetch(`${op.baseUrl}/partner/products/modified-since?count=50`, {
      headers: A_HEADERS('ka'),
    });
    expect(feed.status).toBe(200);
    const { products } = await json<{ products: { productCode: string }[] }>(feed);
    expect(products).toHaveLength(12);

    const detail = await fetch(`${op.baseUrl}/partner/products/${products[0].productCode}`, {
      headers: A_HEADERS('ka'),
    });
    expect(detail.status).toBe(404);
    const unknown = await unknownRoute(op.baseUrl);
    expect((await json(detail)).error).toBe(unknown.body.error);
    expect(op.info().detailEndpoint).toBe(false);
  });

  it('dialect B: the product list works, GET /v1/products/{code} is an unknown route', async () => {
    const op = (await started).operator('list-b');
    const list = await fetch(`${op.baseUrl}/v1/products?limit=100&apiKey=kb`);
    expect(list.status).toBe(200);
    const { products } = await json<{ products: { productCode: string }[] }>(list);
    expect(products).toHaveLength(12);

    const detail = await fetch(`${op.baseUrl}/v1/products/${products[0].productCode}?apiKey=kb`);
    expect(detail.status).toBe(404);
    const body = await json(detail);
    // Not the API's own not-found envelope: the route does not exist.
    expect(body.requestStatus).toBeUndefined();
    expect(body.error).toBe((await unknownRoute(op.baseUrl)).body.error);
    expect(op.info().detailEndpoint).toBe(false);
  });

  it('dialect C ignores it: show.xml is part of the dialect', async () => {
    const op = (await started).operator('xml-c');
    // Unsigned, so the answer is an auth error — from the route, which therefore exists.
    const show = await fetch(`${op.baseUrl}/c/tour/show.xml?id=1`);
    expect(show.status).toBe(200);
    expect(await show.text()).toContain('<error>FAIL_DATE</error>');
    expect(op.info().detailEndpoint).toBe(true);
  });
});
