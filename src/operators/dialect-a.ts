import type { Tour } from '../domain/tour.js';
import { OperatorPayloadError } from './errors.js';
import { withQuery, type OperatorHttp } from './http.js';
import {
  asArray,
  asRecord,
  entryFrom,
  missingId,
  numeric,
  orNull,
  text,
  validate,
  type Raw,
} from './mapping.js';
import type { FetchResult, ListEntry, ListPage, OperatorAdapter } from './types.js';

/**
 * Dialect A — cursor feed with tombstones (Viator Partner API v2 style).
 * GET {base}/partner/products/modified-since?count=N[&cursor=C | &modified-since=ISO]
 * GET {base}/partner/products/{code} (optional: the feed's records are full products)
 * Headers: exp-api-key, Accept: application/json;version=2.0
 */
const A_FEED_PATH = '/partner/products/modified-since';
const A_MAX_COUNT = 500;
const A_ACCEPT = 'application/json;version=2.0';

export interface DialectAOptions {
  operatorId: string;
  http: OperatorHttp;
  apiKey: string;
  /** Whether the operator serves GET /partner/products/{code}; the spec lets it serve the feed alone. */
  detailEndpoint?: boolean;
}

/** Largest variant by pixel area: the image pipeline derives every smaller size from it. */
function largestVariantUrl(image: Raw): unknown {
  let best: Raw | undefined;
  let bestArea = -1;
  for (const v of asArray(image.variants)) {
    const variant = asRecord(v);
    if (!variant) continue;
    const area = Number(variant.width ?? 0) * Number(variant.height ?? 0);
    if (area > bestArea) [best, bestArea] = [variant, Number.isFinite(area) ? area : 0];
  }
  return best?.url;
}

function mapImages(images: unknown): Raw[] {
  return asArray(images)
    .map(asRecord)
    .filter((img): img is Raw => img !== undefined && asArray(img.variants).length > 0)
    .map((img) => ({ url: largestVariantUrl(img), caption: orNull(text(img.caption)) }));
}

function mapLocation(destination: unknown): Raw | null {
  const d = asRecord(destination);
  if (!d) return null;
  return {
    name: text(d.name),
    country: orNull(text(d.country)),
    latitude: orNull(numeric(d.latitude)),
    longitude: orNull(numeric(d.longitude)),
  };
}

/** Pure: one active product → canonical Tour (throws TourValidationError). */
export function mapAProduct(operatorId: string, raw: unknown, fallbackId = '(unknown)'): Tour {
  const p = asRecord(raw) ?? {};
  const externalId = text(p.productCode) ?? fallbackId;
  const duration = asRecord(p.duration);
  const pricing = asRecord(p.pricing);
  const fromPrice = asRecord(pricing?.summary)?.fromPrice;
  return validate(operatorId, externalId, {
    operatorId,
    externalId: text(p.productCode),
    title: p.title,
    description: p.description ?? '',
    durationMinutes: orNull(
      numeric(duration?.fixedDurationInMinutes ?? duration?.variableDurationFromMinutes),
    ),
    price:
      fromPrice === undefined || fromPrice === null
        ? null
        : { amount: numeric(fromPrice), currency: pricing?.currency },
    location: mapLocation(p.destination),
    images: mapImages(p.images),
    sourceUpdatedAt: orNull(p.lastUpdatedAt),
  });
}

function isTombstone(raw: unknown): boolean {
  return asRecord(raw)?.status === 'INACTIVE';
}

/** Pure: one feed item → ListEntry (tombstone → removed; rejected → invalid). */
export function mapAFeedItem(operatorId: string, raw: unknown, index: number): ListEntry {
  const p = asRecord(raw) ?? {};
  const externalId = text(p.productCode) ?? missingId(index);
  return entryFrom(externalId, () => {
    if (isTombstone(p))
      return { kind: 'removed', externalId, sourceUpdatedAt: orNull(text(p.lastUpdatedAt)) };
    const tour = mapAProduct(operatorId, p, externalId);
    return { kind: 'active', externalId, sourceUpdatedAt: tour.sourceUpdatedAt, tour };
  });
}

/**
 * Pure: one feed response → ListPage. The delta mark is the cursor that polls for newer changes:
 * nextCursor while the feed continues, else the cursor that requested this final page. When no
 * cursor exists at all (first page was also the last), the newest lastUpdatedAt is kept instead —
 * the adapter turns a timestamp mark into `modified-since`.
 */
export function mapAFeedPage(
  operatorId: string,
  body: unknown,
  requestCursor: string | undefined,
  previousMark?: string,
  url = A_FEED_PATH,
): ListPage {
  const b = asRecord(body);
  if (!b || !Array.isArray(b.products)) {
    throw new OperatorPayloadError(url, 'feed response has no "products" array', JSON.stringify(body) ?? '');
  }
  const entries = b.products.map((p, i) => mapAFeedItem(operatorId, p, i));
  const nextCursor = text(b.nextCursor);
  // An empty page ends the feed even if a cursor is echoed back: following it would poll forever.
  const more = nextCursor !== undefined && entries.length > 0 && nextCursor !== requestCursor;
  const newest = entries
    .map((e) => (e.kind === 'invalid' ? undefined : (e.sourceUpdatedAt ?? undefined)))
    .filter((d): d is string => d !== undefined)
    .sort()
    .at(-1);
  const deltaMark = more ? nextCursor : (nextCursor ?? requestCursor ?? newest ?? previousMark);
  return { entries, next: more ? nextCursor : undefined, deltaMark };
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

export function createDialectAAdapter(options: DialectAOptions): OperatorAdapter {
  const { operatorId, http } = options;
  const headers = { 'exp-api-key': options.apiKey, accept: A_ACCEPT };
  return {
    dialect: 'A',
    supportsDelta: true,
    reportsRemovals: true,
    listingCarriesTours: true,
    detailEndpoint: options.detailEndpoint ?? true,
    async listPage(position, list) {
      const count = Math.min(Math.max(list.pageSize ?? A_MAX_COUNT, 1), A_MAX_COUNT);
      const since = list.mode === 'delta' ? list.since : undefined;
      let cursor = position;
      let modifiedSince: string | undefined;
      if (cursor === undefined && since !== undefined) {
        if (ISO_TIMESTAMP.test(since)) modifiedSince = since;
        else cursor = since;
      }
      const res = await http.getJson(
        withQuery(A_FEED_PATH, { count, cursor, 'modified-since': modifiedSince }),
        { headers },
      );
      return mapAFeedPage(operatorId, res.body, cursor, since, res.url);
    },
    async fetchTour(externalId): Promise<FetchResult> {
      const path = `/partner/products/${encodeURIComponent(externalId)}`;
      const res = await http.getJson(path, { headers, acceptStatuses: [404] });
      if (res.status === 404) return { kind: 'not-found' };
      if (isTombstone(res.body)) return { kind: 'tombstone' };
      return { kind: 'found', tour: mapAProduct(operatorId, res.body, externalId) };
    },
  };
}
