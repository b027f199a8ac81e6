import { describe, expect, it } from 'vitest';
import { TourValidationError } from '../../../src/domain/errors.js';
import { createDialectDAdapter, readDError } from '../../../src/operators/dialect-d.js';
import { mapDListItem, mapDProduct } from '../../../src/operators/dialect-d-mapping.js';
import {
  OperatorApplicationError,
  OperatorCapabilityError,
  OperatorCredentialsError,
  OperatorHttpError,
  OperatorPayloadError,
} from '../../../src/operators/errors.js';
import type { ListEntry } from '../../../src/operators/types.js';
import { fakeHttp, fixtureJson } from './fixtures.js';

const OP = 'lake-cruises';
const products = fixtureJson('d-products.json') as Record<string, unknown>[];
const spec = fixtureJson('d-spec-products.json') as Record<string, Record<string, unknown>>;
const byId = (id: string) => products.find((p) => p.id === id)!;
const GRANTED = { 'octo-capabilities': 'octo/content, octo/pricing', 'content-type': 'application/json' };

describe('dialect D mapping (recorded OCTO products)', () => {
  it('maps a product: title, description, duration, the lowest unit price of the default option, its location', () => {
    const tour = mapDProduct(OP, byId('lake-sunset'));
    expect(tour).toMatchObject({
      operatorId: OP,
      externalId: 'lake-sunset',
      title: 'Lake Zürich sunset cruise',
      description: '<p>Sail at sunset &amp; enjoy a drink.</p>',
      durationMinutes: 120,
      // The child's 39.99 CHF: not the cheaper non-default option, not the adult's USD price.
      price: { amount: 39.99, currency: 'CHF' },
      // The START location, not the first.
      location: { name: 'Bürkliplatz pier', country: 'CH', latitude: 47.3663, longitude: 8.5413 },
      sourceUpdatedAt: null,
    });
  });

  it("merges the product's and the default option's images: COVER first, GALLERY in order, each once, no LOGO or video", () => {
    expect(mapDProduct(OP, byId('lake-sunset')).images).toEqual([
      { url: 'https://cdn.example.com/cover.jpg', caption: 'Sunset' },
      { url: 'https://cdn.example.com/deck.jpg', caption: 'On deck' },
      { url: 'https://cdn.example.com/bar.png', caption: 'The bar' },
    ]);
  });

  it("per booking: the option's lowest price, zero-decimal currency; the duration from the default option", () => {
    expect(mapDProduct(OP, byId('tea-ceremony'))).toMatchObject({
      title: 'Kyoto tea ceremony',
      description: 'Matcha in a machiya.',
      durationMinutes: 90,
      price: { amount: 9000, currency: 'JPY' },
      location: null,
      images: [],
    });
  });

  it('a product without content fields: internalName for the title, an empty description, still a price', () => {
    expect(mapDProduct(OP, byId('no-content'))).toMatchObject({
      title: 'Harbour walk (internal name)',
      description: '',
      durationMinutes: null,
      price: { amount: 15, currency: 'EUR' },
      images: [],
    });
  });

  it("the specification's own examples import (an empty title falls back; a free infant is no from-price)", () => {
    expect(mapDProduct(OP, spec.core)).toMatchObject({
      externalId: '6b903d44-dc24-4ca4-ae71-6bde6c4f4854',
      title: 'London Eye General Admission',
      price: null,
      images: [],
    });
    expect(mapDProduct(OP, spec.content)).toMatchObject({ durationMinutes: 30, location: null, images: [] });
    expect(mapDProduct(OP, spec.pricingPerUnit).price).toEqual({ amount: 5, currency: 'USD' });
    // Priced in EUR only though its defaultCurrency is USD: the price it has.
    expect(mapDProduct(OP, spec.pricingPerBooking).price).toEqual({ amount: 20, currency: 'EUR' });
  });

  it('what the mapping reads with the wrong shape is a recorded failure naming the field, never a crash', () => {
    const entries = products.map((p, i) => mapDListItem(OP, p, i));
    const invalid = entries.filter((e): e is Extract<ListEntry, { kind: 'invalid' }> => e.kind === 'invalid');
    expect(invalid.map((e) => [e.externalId, e.field])).toEqual([
      ['bad-price', 'options[0].units[0].pricingFrom[0].retail'],
      ['(missing id at position 4)', 'id'],
      ['bad-cover', 'media[0].src'],
    ]);
    expect(invalid[0].error).toBe(
      'tour "bad-price" of operator "lake-cruises": field "options[0].units[0].pricingFrom[0].retail": Expected number, received string',
    );
    expect(entries.filter((e) => e.kind === 'active').map((e) => e.externalId)).toEqual([
      'lake-sunset',
      'tea-ceremony',
      'no-content',
    ]);
    expect(() => mapDProduct(OP, byId('bad-price'))).toThrow(TourValidationError);
  });

  it('the canonical schema judges the rest (an impossible currency, no title at all)', () => {
    const noTitle = { ...byId('no-content'), internalName: '  ' };
    expect(mapDListItem(OP, noTitle, 0)).toMatchObject({ kind: 'invalid', field: 'title' });
    const badCurrency = structuredClone(byId('no-content'));
    (
      badCurrency.options as { units: { pricingFrom: { currency: string }[] }[] }[]
    )[0].units[0].pricingFrom[0].currency = 'EURO';
    expect(mapDListItem(OP, { ...badCurrency, defaultCurrency: 'EURO' }, 0)).toMatchObject({
      kind: 'invalid',
      field: 'price.currency',
    });
  });
});

describe('dialect D errors, read by their OCTO code', () => {
  const url = 'http://op/products';
  it('UNAUTHORIZED and FORBIDDEN refuse the credentials whatever the status, naming the operator', () => {
    for (const [status, error] of [
      [400, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
      [400, 'FORBIDDEN'],
      [403, 'FORBIDDEN'],
    ] as const) {
      const err = readDError(OP, status, { error, errorMessage: 'no' }, url);
      expect(err).toBeInstanceOf(OperatorCredentialsError);
      expect(err).toMatchObject({ retryable: false, type: 'OperatorCredentialsRefused' });
      expect((err as Error).message).toContain(
        `operator "${OP}" refused the credentials (${error}, HTTP ${status})`,
      );
    }
    expect(readDError(OP, 401, undefined, url)).toBeInstanceOf(OperatorCredentialsError);
  });

  it('INVALID_PRODUCT_ID is not-found; INTERNAL_SERVER_ERROR is retried even under 400; other codes are permanent', () => {
    expect(readDError(OP, 400, { error: 'INVALID_PRODUCT_ID', errorMessage: 'x', productId: 'p' }, url)).toBe(
      'not-found',
    );
    const internal = readDError(OP, 400, { error: 'INTERNAL_SERVER_ERROR', errorMessage: 'retry' }, url);
    expect(internal).toBeInstanceOf(OperatorHttpError);
    expect(internal).toMatchObject({ retryable: true, status: 400 });
    const bad = readDError(OP, 400, { error: 'BAD_REQUEST', errorMessage: 'what' }, url);
    expect(bad).toBeInstanceOf(OperatorApplicationError);
    expect(bad).toMatchObject({ retryable: false, code: 'BAD_REQUEST' });
    expect(readDError(OP, 404, undefined, url)).toMatchObject({ retryable: false, status: 404 });
  });
});

describe('dialect D adapter', () => {
  const listOf = (body: unknown, headers: Record<string, string> = GRANTED, status = 200) =>
    fakeHttp(() => ({ status, body, headers }));
  const adapter = (http: ReturnType<typeof fakeHttp>, acceptLanguage?: string) =>
    createDialectDAdapter({ operatorId: OP, http, apiKey: 'k-123', acceptLanguage });
  const stream = async (a: ReturnType<typeof adapter>) => {
    const out: ListEntry[] = [];
    for await (const e of a.streamListing!()) out.push(e);
    return out;
  };

  it('asks for content and pricing with its Bearer key and language; lists whole tours, no delta', async () => {
    const http = listOf(products.slice(0, 3));
    const a = adapter(http, 'de-CH, de;q=0.8');
    expect(a).toMatchObject({
      dialect: 'D',
      supportsDelta: false,
      listingCarriesTours: true,
      detailEndpoint: true,
    });
    const entries = await stream(a);
    expect(entries.map((e) => [e.kind, e.externalId, e.kind === 'active' && e.tour?.title])).toEqual([
      ['active', 'lake-sunset', 'Lake Zürich sunset cruise'],
      ['active', 'tea-ceremony', 'Kyoto tea ceremony'],
      ['active', 'no-content', 'Harbour walk (internal name)'],
    ]);
    expect(http.calls).toEqual([
      {
        path: '/products',
        headers: {
          authorization: 'Bearer k-123',
          'octo-capabilities': 'octo/content, octo/pricing',
          'accept-language': 'de-CH, de;q=0.8',
          accept: 'application/json',
        },
      },
    ]);
    // listPage (a check, a dry run) is the same listing as one page.
    expect((await a.listPage(undefined, { mode: 'full' })).entries).toEqual(entries);
  });

  it('an answer without octo/content is a non-retryable failure naming the capability', async () => {
    for (const headers of [{ 'octo-capabilities': 'octo/pricing' }, {}] as Record<string, string>[]) {
      const err = await stream(adapter(listOf(products, headers))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperatorCapabilityError);
      expect(err).toMatchObject({ retryable: false, type: 'OperatorCapabilityMissing' });
      expect((err as Error).message).toContain(
        `operator "${OP}" did not initialise the capability octo/content`,
      );
    }
    const detail = await adapter(listOf(products[0], { 'octo-capabilities': '' }))
      .fetchTour('lake-sunset')
      .catch((e: unknown) => e);
    expect(detail).toBeInstanceOf(OperatorCapabilityError);
  });

  it('fetchTour: GET /products/{id}; INVALID_PRODUCT_ID is not-found; refused credentials throw', async () => {
    const http = fakeHttp((path) =>
      path === '/products/lake-sunset'
        ? { body: byId('lake-sunset'), headers: GRANTED }
        : path === '/products/gone'
          ? { status: 400, body: { error: 'INVALID_PRODUCT_ID', errorMessage: 'no', productId: 'gone' } }
          : { status: 400, body: { error: 'UNAUTHORIZED', errorMessage: 'key?' } },
    );
    const a = adapter(http);
    expect(await a.fetchTour('lake-sunset')).toMatchObject({
      kind: 'found',
      tour: { externalId: 'lake-sunset' },
    });
    expect(await a.fetchTour('gone')).toEqual({ kind: 'not-found' });
    await expect(a.fetchTour('other')).rejects.toBeInstanceOf(OperatorCredentialsError);
    expect(http.calls.map((c) => c.path)).toEqual([
      '/products/lake-sunset',
      '/products/gone',
      '/products/other',
    ]);
  });

  it('a listing answering an error: credentials refused, and INVALID_PRODUCT_ID is never an empty listing', async () => {
    const refused = listOf({ error: 'FORBIDDEN', errorMessage: 'revoked' }, {}, 400);
    await expect(stream(adapter(refused))).rejects.toBeInstanceOf(OperatorCredentialsError);
    const odd = listOf({ error: 'INVALID_PRODUCT_ID', errorMessage: '?' }, {}, 400);
    const err = await stream(adapter(odd)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorPayloadError);
    expect((err as Error).message).toContain('the listing answered INVALID_PRODUCT_ID instead of products');
  });
});
