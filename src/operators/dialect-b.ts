import type { Tour } from '../domain/tour.js';
import { OperatorPayloadError, applicationError } from './errors.js';
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
import {
  B_MAX_BACKTRACK,
  B_MAX_LIMIT,
  B_OVERLAP,
  decodeBPosition,
  encodeBPosition,
  planBPage,
  rowCode,
} from './dialect-b-paging.js';
import type { FetchResult, ListEntry, ListPage, OperatorAdapter } from './types.js';

/**
 * Dialect B — offset paging with updatedSince, no deletions (Rezdy / GetYourGuide style).
 * GET {base}/v1/products?limit=N&offset=M[&updatedSince=ISO]&apiKey=KEY
 * GET {base}/v1/products/{code}?apiKey=KEY (optional: the list carries full products)
 */
const B_PRODUCTS_PATH = '/v1/products';
/** Filled into `[format_id]` image templates: the largest rendition the operator offers. */
export const DEFAULT_IMAGE_FORMAT_ID = 'original';
/**
 * updatedSince is queried this much earlier than the stored mark (the scan's start at the
 * operator): clock skew, same-second updates, and the Date header's 1-second resolution.
 */
const DEFAULT_DELTA_LOOKBACK_MS = 60_000;

export interface DialectBOptions {
  operatorId: string;
  http: OperatorHttp;
  apiKey: string;
  imageFormatId?: string;
  deltaLookbackMs?: number;
  /** Whether the operator serves GET /v1/products/{code}; the spec defines only the list, so by default not. */
  detailEndpoint?: boolean;
}

export interface BMapOptions {
  imageFormatId?: string;
}

function mapImages(p: Raw, formatId: string): Raw[] {
  const sized = asArray(p.images)
    .map(asRecord)
    .filter((i): i is Raw => i !== undefined)
    .map((i) => ({ url: i.largeSizeUrl ?? i.itemUrl, caption: orNull(text(i.caption)) }));
  const templated = asArray(p.imageTemplates)
    .map(asRecord)
    .filter((i): i is Raw => i !== undefined)
    .map((i) => ({
      url: typeof i.url === 'string' ? i.url.split('[format_id]').join(formatId) : i.url,
      caption: orNull(text(i.caption)),
    }));
  return [...sized, ...templated];
}

function mapLocation(address: unknown): Raw | null {
  const a = asRecord(address);
  if (!a) return null;
  const name = text(a.city) ?? text(a.countryCode);
  if (name === undefined) return null;
  return {
    name,
    country: orNull(text(a.countryCode)),
    latitude: orNull(numeric(a.latitude)),
    longitude: orNull(numeric(a.longitude)),
  };
}

/** Pure: one product → canonical Tour (throws TourValidationError). */
export function mapBProduct(
  operatorId: string,
  raw: unknown,
  options: BMapOptions = {},
  fallbackId = '(unknown)',
): Tour {
  const p = asRecord(raw) ?? {};
  const code = text(p.productCode);
  const price = p.advertisedPrice;
  return validate(operatorId, code ?? fallbackId, {
    operatorId,
    externalId: code,
    title: p.name,
    description: p.description ?? p.shortDescription ?? '',
    durationMinutes: orNull(numeric(p.durationMinutes)),
    price: price === undefined || price === null ? null : { amount: numeric(price), currency: p.currency },
    location: mapLocation(p.locationAddress),
    images: mapImages(p, options.imageFormatId ?? DEFAULT_IMAGE_FORMAT_ID),
    sourceUpdatedAt: orNull(p.dateUpdated),
  });
}

export function mapBListItem(
  operatorId: string,
  raw: unknown,
  index: number,
  options: BMapOptions = {},
): ListEntry {
  const externalId = rowCode(raw) ?? missingId(index);
  return entryFrom(externalId, () => {
    const tour = mapBProduct(operatorId, raw, options, externalId);
    return { kind: 'active', externalId, sourceUpdatedAt: tour.sourceUpdatedAt, tour };
  });
}

const NOT_FOUND = /NOT.?FOUND|UNKNOWN.?PRODUCT|NO.?SUCH/i;

/**
 * Pure: checks the envelope. success:false inside a 200 → typed error (not-found is returned as
 * `notFound` so fetchTour can report the tour gone). Returns the envelope's other members.
 */
export function readBEnvelope(body: unknown, url: string): { notFound: boolean; data: Raw } {
  const b = asRecord(body);
  const status = asRecord(b?.requestStatus);
  if (!b || !status || typeof status.success !== 'boolean') {
    throw new OperatorPayloadError(url, 'response has no requestStatus.success', JSON.stringify(body) ?? '');
  }
  if (status.success) return { notFound: false, data: b };
  const error = asRecord(status.error);
  const code = text(error?.errorCode) ?? 'UNKNOWN';
  const message = text(error?.errorMessage) ?? '';
  if (NOT_FOUND.test(code) || NOT_FOUND.test(message)) return { notFound: true, data: b };
  throw applicationError(url, code, message);
}

export function createDialectBAdapter(options: DialectBOptions): OperatorAdapter {
  const { operatorId, http, apiKey } = options;
  const mapOptions = { imageFormatId: options.imageFormatId };
  const lookback = options.deltaLookbackMs ?? DEFAULT_DELTA_LOOKBACK_MS;

  /** One page of products, and the operator's time it was served at (its Date header) if it said. */
  async function fetchRows(
    start: number,
    limit: number,
    updatedSince: string | undefined,
  ): Promise<{ rows: unknown[]; serverDate?: string }> {
    const res = await http.getJson(
      withQuery(B_PRODUCTS_PATH, { limit, offset: start, updatedSince, apiKey }),
    );
    const { data, notFound } = readBEnvelope(res.body, res.url);
    // Not-found means something for one product, never for a listing: an empty page here would end the
    // listing early and the removal sweep would mark the rest of the catalog removed.
    if (notFound) throw new OperatorPayloadError(res.url, 'listing answered NOT_FOUND instead of a page');
    if (!Array.isArray(data.products))
      throw new OperatorPayloadError(res.url, 'response has no "products" array');
    return { rows: data.products, serverDate: res.serverDate };
  }

  return {
    dialect: 'B',
    supportsDelta: true,
    reportsRemovals: false,
    listingCarriesTours: true,
    detailEndpoint: options.detailEndpoint ?? false,
    async listPage(position, list): Promise<ListPage> {
      const since = list.mode === 'delta' ? list.since : undefined;
      const sinceMs = since === undefined ? NaN : Date.parse(since);
      const updatedSince = Number.isNaN(sinceMs) ? undefined : new Date(sinceMs - lookback).toISOString();
      const pageSize = Math.min(Math.max(list.pageSize ?? B_MAX_LIMIT, 1), B_MAX_LIMIT);
      const pos = decodeBPosition(position);
      const requestedAt = new Date().toISOString();
      let gap = Math.min(B_OVERLAP, pos.o);
      for (let attempt = 0; ; attempt++) {
        const start = pos.o - gap;
        const limit = Math.min(B_MAX_LIMIT, pageSize + gap);
        const { rows, serverDate } = await fetchRows(start, limit, updatedSince);
        // The mark is when the scan started at the operator, set by the first page (see dialect-b-paging.ts).
        const scanStart = pos.m ?? serverDate ?? requestedAt;
        const plan = planBPage({ ...pos, m: scanStart }, start, limit, rows);
        if (!plan.anchored && start > 0 && attempt < B_MAX_BACKTRACK) {
          gap = Math.min(pos.o, gap + B_MAX_LIMIT - 1);
          continue;
        }
        return {
          entries: plan.fresh.map((row) =>
            mapBListItem(operatorId, row, start + rows.indexOf(row), mapOptions),
          ),
          next: plan.next && encodeBPosition(plan.next),
          deltaMark: scanStart,
        };
      }
    },
    async fetchTour(externalId): Promise<FetchResult> {
      const path = withQuery(`${B_PRODUCTS_PATH}/${encodeURIComponent(externalId)}`, { apiKey });
      const res = await http.getJson(path, { acceptStatuses: [404] });
      if (res.status === 404) return { kind: 'not-found' };
      const { data, notFound } = readBEnvelope(res.body, res.url);
      if (notFound) return { kind: 'not-found' };
      if (!asRecord(data.product))
        throw new OperatorPayloadError(res.url, 'response has no "product" object');
      return { kind: 'found', tour: mapBProduct(operatorId, data.product, mapOptions, externalId) };
    },
  };
}
