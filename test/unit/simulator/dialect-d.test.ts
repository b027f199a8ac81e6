import {
  zBaseError,
  zErrorForbidden,
  zErrorInternalServerError,
  zErrorInvalidProductId,
  zErrorUnauthorized,
  zProductsGetProductResponse,
  zProductsGetProductsResponse,
} from '@octocloud/types';
import { afterAll, describe, expect, it } from 'vitest';
import { preferredLanguage } from '../../../tooling/simulator/dialect-d.js';
import { simulator } from './helpers.js';

/**
 * Dialect D is a published standard: every answer the simulator gives — the listing, one product, with
 * and without content, and each error — is validated against the specification's own zod schemas
 * (`@octocloud/types`), so the simulator cannot drift from OCTO. The schemas accept unknown keys (they
 * strip them), so each answer must also equal what the schema made of it: no field the spec lacks.
 */
const KEY = 'octo-secret-key';
const FULL = { authorization: `Bearer ${KEY}`, 'octo-capabilities': 'octo/content, octo/pricing' };

interface Schema {
  safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: unknown[] } };
}

/** Valid under the spec's schema, with nothing the schema does not know. */
function expectSpec(schema: Schema, body: unknown) {
  const result = schema.safeParse(body);
  expect(result.error?.issues ?? []).toEqual([]);
  expect(result.data).toEqual(body);
}

describe('dialect D (OCTO) answers as the specification types them', () => {
  const started = simulator([
    {
      id: 'octo',
      dialect: 'D',
      seed: 7,
      tourCount: 24,
      imagesPerTour: { min: 0, max: 4 },
      credentials: { apiKey: KEY },
      octo: { languages: ['en', 'de'] },
    },
    {
      id: 'octo-400',
      dialect: 'D',
      tourCount: 10,
      credentials: { apiKey: KEY },
      octo: { authErrorsAs400: true },
    },
    {
      id: 'no-content',
      dialect: 'D',
      tourCount: 10,
      credentials: { apiKey: KEY },
      octo: { grantContent: false },
    },
  ]);
  afterAll(async () => (await started).close());

  async function get(op: string, path: string, headers: Record<string, string> = FULL) {
    const res = await fetch(`${(await started).operator(op).baseUrl}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
  }
  const firstCode = async (op: string) => (await started).operator(op).activeCodes()[0];

  it('the listing: every product, valid Products with content and pricing, capabilities and language said', async () => {
    const res = await get('octo', '/products');
    expect(res.status).toBe(200);
    expectSpec(zProductsGetProductsResponse, res.body);
    const products = res.body as { id: string; title?: string; media?: { rel: string }[] }[];
    expect(products.map((p) => p.id)).toEqual((await started).operator('octo').activeCodes());
    expect(products.every((p) => typeof p.title === 'string')).toBe(true);
    expect(new Set(products.flatMap((p) => (p.media ?? []).map((m) => m.rel)))).toEqual(
      new Set(['LOGO', 'GALLERY', 'COVER']),
    );
    expect(res.headers.get('octo-capabilities')).toBe('octo/content, octo/pricing');
    expect(res.headers.get('content-language')).toBe('en');
    expect(res.headers.get('available-languages')).toBe('en, de');
  });

  it('one product, valid, in the language asked for', async () => {
    const code = await firstCode('octo');
    const res = await get('octo', `/products/${code}`, { ...FULL, 'accept-language': 'fr;q=0.9, de' });
    expect(res.status).toBe(200);
    expectSpec(zProductsGetProductResponse, res.body);
    expect(res.body).toMatchObject({ id: code, title: expect.stringMatching(/ \[de\]$/) });
    expect(res.headers.get('content-language')).toBe('de');
  });

  it('without octo/content asked for, or never granted: valid products without content, and said so', async () => {
    const pricingOnly = { ...FULL, 'octo-capabilities': 'octo/pricing' };
    for (const [op, headers] of [
      ['octo', pricingOnly],
      ['no-content', FULL],
    ] as const) {
      const res = await get(op, '/products', headers);
      expect(res.status).toBe(200);
      expectSpec(zProductsGetProductsResponse, res.body);
      const [first] = res.body as Record<string, unknown>[];
      expect(first).not.toHaveProperty('title');
      expect(first).not.toHaveProperty('media');
      expect(first).toHaveProperty('defaultCurrency');
      expect(res.headers.get('octo-capabilities')).toBe('octo/pricing');
      expect(res.headers.get('content-language')).toBeNull();
      const one = await get(op, `/products/${await firstCode(op)}`, headers);
      expectSpec(zProductsGetProductResponse, one.body);
    }
  });

  it('errors: UNAUTHORIZED, FORBIDDEN (as 401 / 403, or under 400), INVALID_PRODUCT_ID', async () => {
    const noKey = await get('octo', '/products', { 'octo-capabilities': 'octo/content' });
    expect(noKey.status).toBe(401);
    expectSpec(zErrorUnauthorized, noKey.body);
    expect(noKey.body).toMatchObject({ error: 'UNAUTHORIZED' });
    const wrongKey = await get('octo', '/products', { ...FULL, authorization: 'Bearer nope' });
    expect(wrongKey.status).toBe(403);
    expectSpec(zErrorForbidden, wrongKey.body);
    expect(wrongKey.body).toMatchObject({ error: 'FORBIDDEN' });
    const under400 = await get('octo-400', '/products/x', { ...FULL, authorization: 'Basic x' });
    expect([under400.status, (under400.body as { error: string }).error]).toEqual([400, 'UNAUTHORIZED']);
    expectSpec(zErrorUnauthorized, under400.body);
    const forbidden400 = await get('octo-400', '/products', { ...FULL, authorization: 'Bearer nope' });
    expect([forbidden400.status, (forbidden400.body as { error: string }).error]).toEqual([400, 'FORBIDDEN']);
    const unknown = await get('octo', '/products/no-such-product');
    expect(unknown.status).toBe(400);
    expectSpec(zErrorInvalidProductId, unknown.body);
    expect(unknown.body).toMatchObject({ error: 'INVALID_PRODUCT_ID', productId: 'no-such-product' });
  });

  it('a removed product is INVALID_PRODUCT_ID, and gone from the listing', async () => {
    const sim = await started;
    const code = sim.operator('octo').activeCodes()[1];
    sim.operator('octo').remove(code);
    try {
      const res = await get('octo', `/products/${code}`);
      expect(res.status).toBe(400);
      expectSpec(zErrorInvalidProductId, res.body);
      const listed = (await get('octo', '/products')).body as { id: string }[];
      expect(listed.map((p) => p.id)).not.toContain(code);
    } finally {
      sim.operator('octo').restore(code);
    }
  });

  it('faults answer as OCTO does: INTERNAL_SERVER_ERROR, 429 with Retry-After, INVALID_PRODUCT_ID', async () => {
    const sim = await started;
    const op = sim.operator('octo');
    op.setFaults({
      list: [
        { type: 'error', status: 503, retryAfterSeconds: 2, times: 1 },
        { type: 'rate-limit', retryAfterSeconds: 3, after: 1, times: 1 },
      ],
      detail: [{ type: 'not-found', times: 1 }],
    });
    try {
      const failed = await get('octo', '/products');
      expect([failed.status, failed.headers.get('retry-after')]).toEqual([503, '2']);
      expectSpec(zErrorInternalServerError, failed.body);
      expect(failed.body).toMatchObject({ error: 'INTERNAL_SERVER_ERROR' });
      const limited = await get('octo', '/products');
      expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
      expectSpec(zBaseError, limited.body);
      const missing = await get('octo', `/products/${await firstCode('octo')}`);
      expect(missing.status).toBe(400);
      expectSpec(zErrorInvalidProductId, missing.body);
      expectSpec(zProductsGetProductsResponse, (await get('octo', '/products')).body);
    } finally {
      op.reset();
    }
  });
});

describe('Accept-Language', () => {
  it('picks the highest-ranked language the operator has, by primary tag too, else its first', () => {
    expect(preferredLanguage('de-CH, fr;q=0.9', ['en', 'de'])).toBe('de');
    expect(preferredLanguage('fr;q=0.5, de;q=0.8', ['en', 'de', 'fr'])).toBe('de');
    expect(preferredLanguage('ja', ['en', 'de'])).toBe('en');
    expect(preferredLanguage('*', ['en', 'de'])).toBe('en');
    expect(preferredLanguage('', ['de', 'en'])).toBe('de');
    expect(preferredLanguage('de;q=0', ['en', 'de'])).toBe('en');
  });
});
