import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { photoJpeg, photoPng } from './images.js';

/**
 * An OCTO supplier written from the specification alone (the OpenAPI file of octotravel/octo-types,
 * `src/openapi.yaml`), not from the project's simulator: the operator an adapter meets in the field.
 * It serves what the spec promises and no more — `GET /products/` (with or without the slash) and
 * `GET /products/{id}`, Bearer auth, its errors under 400 as the spec documents them — and takes the
 * liberties the spec allows: it leaves out whatever only booking needs, adds fields of its own, lists
 * a LOGO, prices one product per BOOKING and another per UNIT, has a product whose content has no
 * title (only its internalName), answers in the language Accept-Language asks for when it has it, and
 * writes its listing in small pieces.
 */
export const SPEC_KEY = 'spec-octo-key-0001';

export interface SpecOctoServer {
  /** The supplier's OCTO endpoint (the operators file's baseUrl). */
  baseUrl: string;
  /** Ids of the products it lists, in order. */
  ids(): string[];
  /** Takes a product off its listing and its detail endpoint. */
  withdraw(id: string): void;
  /** What each request asked for: path, capabilities, language. */
  requests: { path: string; capabilities: string; language: string }[];
  close(): Promise<void>;
}

interface Photo {
  name: string;
  bytes: Buffer;
  type: 'image/jpeg' | 'image/png';
}

function media(base: string, photo: Photo, rel: string, caption: string | null) {
  return { src: `${base}/media/${photo.name}`, type: photo.type, rel, title: null, caption, copyright: null };
}

/** Products as the spec shapes them, given the capabilities the request initialised. */
function catalog(base: string, photos: Photo[], content: boolean, pricing: boolean, lang: string) {
  const [logo, p1, p2, p3] = photos;
  const de = lang === 'de';
  const unitPrice = (retail: number) => ({
    original: retail,
    retail,
    net: null,
    currency: 'EUR',
    currencyPrecision: 2,
    includedTaxes: [],
  });
  return [
    {
      id: 'harbour-bike',
      internalName: 'HB-01',
      reference: null,
      locale: 'en',
      'x-supplier-rating': 4.8,
      options: [
        {
          id: 'DEFAULT',
          default: true,
          internalName: 'Standard',
          units: [
            {
              id: 'adult',
              internalName: 'Adult',
              type: 'ADULT',
              ...(pricing && { pricingFrom: [unitPrice(3200)] }),
            },
            {
              id: 'youth',
              internalName: 'Youth',
              type: 'YOUTH',
              ...(pricing && { pricingFrom: [unitPrice(2400)] }),
            },
          ],
          ...(content && {
            media: [media(base, p2, 'GALLERY', 'Along the quay'), media(base, p1, 'GALLERY', null)],
          }),
        },
      ],
      ...(pricing && { defaultCurrency: 'EUR', availableCurrencies: ['EUR'], pricingPer: 'UNIT' }),
      ...(content && {
        title: de ? 'Hafen mit dem Rad' : 'Harbour by bike',
        shortDescription: de ? 'Drei Stunden am Wasser.' : 'Three hours along the water.',
        description: null,
        durationMinutesFrom: 180,
        media: [
          media(base, logo, 'LOGO', 'Our logo'),
          media(base, p2, 'GALLERY', 'Along the quay'),
          media(base, p1, 'COVER', 'The harbour'),
        ],
        locations: [
          {
            title: 'Harbour gate',
            types: ['START'],
            place: {
              latitude: 53.5453,
              longitude: 9.9665,
              postalAddress: { addressLocality: 'Hamburg', addressCountry: 'DE' },
            },
          },
        ],
      }),
    },
    {
      id: 'boat-charter',
      internalName: 'Private boat charter',
      reference: 'BC',
      locale: 'en',
      options: [
        {
          id: 'half-day',
          default: true,
          internalName: 'Half day',
          units: [{ id: 'group', internalName: 'Group', type: 'OTHER' }],
          ...(pricing && { pricingFrom: [unitPrice(45000)] }),
          ...(content && { durationMinutesFrom: 240 }),
        },
      ],
      ...(pricing && { defaultCurrency: 'EUR', pricingPer: 'BOOKING' }),
      ...(content && {
        title: 'Private boat charter',
        description: '<p>Your own boat &amp; skipper.</p>',
        media: [media(base, p3, 'COVER', 'The boat')],
      }),
    },
    {
      id: 'museum-pass',
      internalName: 'Museum pass (24 h)',
      reference: null,
      locale: 'en',
      options: [{ id: 'DEFAULT', default: true, internalName: 'DEFAULT', units: [] }],
      // Content initialised, but this product has no title, description or media of its own.
      ...(content && { categoryLabels: ['museums'] }),
    },
  ];
}

export async function startSpecOctoServer(): Promise<SpecOctoServer> {
  const photos: Photo[] = [
    { name: 'logo.png', bytes: await photoPng(120, 60), type: 'image/png' },
    { name: 'harbour.jpg', bytes: await photoJpeg(320, 213), type: 'image/jpeg' },
    { name: 'quay.jpg', bytes: await photoJpeg(320, 213), type: 'image/jpeg' },
    { name: 'boat.png', bytes: await photoPng(320, 213), type: 'image/png' },
  ];
  const withdrawn = new Set<string>();
  const requests: SpecOctoServer['requests'] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://spec').pathname.replace(/^\/octo/, '');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    const photo = photos.find((p) => path === `/media/${p.name}`);
    if (photo) return res.writeHead(200, { 'content-type': photo.type }).end(photo.bytes);
    const asked = String(req.headers['octo-capabilities'] ?? '');
    const language = String(req.headers['accept-language'] ?? '');
    requests.push({ path, capabilities: asked, language });
    if (req.headers.authorization !== `Bearer ${SPEC_KEY}`)
      return send(400, { error: 'UNAUTHORIZED', errorMessage: 'Missing or invalid API key' });
    const granted = ['octo/content', 'octo/pricing'].filter((c) =>
      asked
        .split(',')
        .map((s) => s.trim())
        .includes(c),
    );
    const content = granted.includes('octo/content');
    const lang = /^\s*de\b/.test(language) ? 'de' : 'en';
    const headers = { 'octo-capabilities': granted.join(', '), ...(content && { 'content-language': lang }) };
    const products = catalog(base, photos, content, granted.includes('octo/pricing'), lang).filter(
      (p) => !withdrawn.has(p.id),
    );
    if (path === '/products' || path === '/products/') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      const text = JSON.stringify(products);
      for (let i = 0; i < text.length; i += 97) res.write(text.slice(i, i + 97));
      return res.end();
    }
    const one = /^\/products\/([^/]+)$/.exec(path);
    const product = one && products.find((p) => p.id === decodeURIComponent(one[1]));
    if (product) return send(200, product, headers);
    return send(400, {
      error: 'INVALID_PRODUCT_ID',
      errorMessage: 'The productId was missing or invalid',
      productId: one?.[1] ?? '',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `${origin}/octo`;
  return {
    baseUrl: base,
    ids: () =>
      catalog(base, photos, false, false, 'en')
        .map((p) => p.id)
        .filter((id) => !withdrawn.has(id)),
    withdraw: (id) => void withdrawn.add(id),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
