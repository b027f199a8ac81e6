import { afterAll, describe, expect, it } from 'vitest';
import { mix32, unmix32 } from '../../../tooling/simulator/hash.js';
import { A_HEADERS, json, simulator } from './helpers.js';

describe('hash', () => {
  it('unmix32 inverts mix32, so product codes map back to tours without a table', () => {
    for (const x of [0, 1, 2, 12345, 0x7fffffff, 0xffffffff, 0xdeadbeef])
      expect(unmix32(mix32(x))).toBe(x >>> 0);
  });
});

describe('catalog determinism', () => {
  const specs = [
    { id: 'one', dialect: 'A' as const, seed: 'same-seed', tourCount: 40 },
    { id: 'two', dialect: 'A' as const, seed: 'same-seed', tourCount: 40 },
    { id: 'three', dialect: 'A' as const, seed: 'other-seed', tourCount: 40 },
  ];
  const started = simulator(specs);
  afterAll(async () => (await started).close());

  async function catalogOf(id: string) {
    const sim = await started;
    const op = sim.operator(id);
    const res = await fetch(`${op.baseUrl}/partner/products/modified-since?count=500`, {
      headers: A_HEADERS(op.credentials.apiKey),
    });
    const body = await json<{ products: Record<string, unknown>[] }>(res);
    // URLs contain the operator id; everything else must be identical for the same seed.
    return JSON.stringify(body.products).replaceAll(`/ops/${id}/`, '/ops/X/');
  }

  it('gives the same catalog for the same seed and a different one for another seed', async () => {
    const [one, two, three] = await Promise.all([catalogOf('one'), catalogOf('two'), catalogOf('three')]);
    expect(one).toBe(two);
    expect(one).not.toBe(three);
    expect(JSON.parse(one)).toHaveLength(40);
  });

  it('includes non-ASCII titles', async () => {
    const products = JSON.parse(await catalogOf('one')) as { title: string }[];
    expect(products.some((p) => /[^\x00-\x7f]/.test(p.title))).toBe(true);
    expect(new Set(products.map((p) => p.title)).size).toBe(40);
  });

  it('lists operators with base URLs and credentials', async () => {
    const sim = await started;
    const body = await json<{
      operators: { id: string; dialect: string; baseUrl: string; credentials: { apiKey: string } }[];
    }>(await fetch(`${sim.url}/operators`));
    expect(body.operators.map((o) => o.id)).toEqual(['one', 'two', 'three']);
    expect(body.operators[0]).toMatchObject({
      dialect: 'A',
      baseUrl: `${sim.url}/ops/one`,
      credentials: { apiKey: 'one-key' },
    });
  });
});
