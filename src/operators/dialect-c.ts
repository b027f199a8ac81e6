import { createHmac } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { Tour } from '../domain/tour.js';
import { OperatorPayloadError, applicationError } from './errors.js';
import { withQuery, type OperatorHttp } from './http.js';
import { asArray, asRecord, missingId, numeric, orNull, text, validate, type Raw } from './mapping.js';
import type { FetchResult, ListEntry, ListPage, OperatorAdapter } from './types.js';

/**
 * Dialect C — XML full catalog, no delta, signed requests (TourCMS style).
 * GET {base}/c/tours/list.xml          every tour, no paging, no dates
 * GET {base}/c/tour/show.xml?id=ID     one tour in full
 * Authorization: TourCMS <channel>:<marketplace>:<base64 HMAC-SHA256>, Date: <RFC 1123>
 */
const C_LIST_PATH = '/c/tours/list.xml';
const C_SHOW_PATH = '/c/tour/show.xml';

export interface CCredentials {
  channelId: string | number;
  marketplaceId: string | number;
  apiKey: string;
}

export interface DialectCOptions extends CCredentials {
  operatorId: string;
  http: OperatorHttp;
  /** Injectable clock (unix seconds) so signatures are testable. */
  now?: () => number;
}

/** signature = base64(HMAC-SHA256(apiKey, `${channel}/${marketplace}/${VERB}/${unixtime}${pathWithQuery}`)) */
export function signC(creds: CCredentials, verb: string, unixtime: number, pathWithQuery: string): string {
  const toSign = `${creds.channelId}/${creds.marketplaceId}/${verb.toUpperCase()}/${unixtime}${pathWithQuery}`;
  return createHmac('sha256', creds.apiKey).update(toSign, 'utf8').digest('base64');
}

export function cAuthHeaders(
  creds: CCredentials,
  unixtime: number,
  pathWithQuery: string,
): Record<string, string> {
  return {
    authorization: `TourCMS ${creds.channelId}:${creds.marketplaceId}:${signC(creds, 'GET', unixtime, pathWithQuery)}`,
    date: new Date(unixtime * 1000).toUTCString(),
  };
}

/**
 * Values stay strings (ids like "007" must not become 7); entities are decoded with bounded
 * expansion (no entity-expansion bombs; fast-xml-parser never fetches external entities); CDATA
 * merges into the text; tours and images are always arrays, whether one or many.
 */
const ALWAYS_ARRAY = new Set(['response.tour', 'response.tours.tour', 'response.tour.images.image']);
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  htmlEntities: true,
  processEntities: {
    enabled: true,
    maxEntityCount: 50,
    maxEntitySize: 1000,
    maxTotalExpansions: 1000,
    maxExpandedLength: 100_000,
  },
  isArray: (_name, jpath) => ALWAYS_ARRAY.has(String(jpath)),
});

/** Pure: XML text → the <response> element, after checking <error>. Throws typed errors. */
function parseCResponse(xml: string, url: string): { notFound: boolean; response: Raw } {
  let doc: Raw;
  try {
    doc = parser.parse(xml, true) as Raw;
  } catch (err) {
    throw new OperatorPayloadError(url, `malformed XML (${(err as Error).message.split('\n')[0]})`, xml);
  }
  const response = asRecord(doc.response);
  if (!response) throw new OperatorPayloadError(url, 'no <response> element', xml);
  const error = text(response.error) ?? 'OK';
  if (error.toUpperCase() === 'OK') return { notFound: false, response };
  if (/NOT.?FOUND|NO.?TOUR|UNKNOWN.?TOUR/i.test(error)) return { notFound: true, response };
  throw applicationError(url, error.replace(/\s+/g, '_').toUpperCase(), error);
}

function tours(response: Raw): Raw[] {
  const list = response.tour ?? asRecord(response.tours)?.tour;
  return asArray(list).map((t) => asRecord(t) ?? {});
}

/** "90 minutes", "3 hours", "2h 30m", "1 day", "1.5 hours" → minutes; anything else → undefined. */
export function parseDurationDesc(desc: string | undefined): number | undefined {
  if (!desc) return undefined;
  const units: Record<string, number> = {
    d: 1440,
    day: 1440,
    h: 60,
    hr: 60,
    hour: 60,
    m: 1,
    min: 1,
    minute: 1,
  };
  let total = 0;
  let matched = false;
  for (const m of desc
    .toLowerCase()
    .matchAll(/(\d+(?:[.,]\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m)\b/g)) {
    const unit = m[2].replace(/s$/, '');
    total += Number(m[1].replace(',', '.')) * (units[unit] ?? 0);
    matched = true;
  }
  return matched && total > 0 ? Math.round(total) : undefined;
}

/** <duration> is minutes when numeric; otherwise read it, then <duration_desc>, as prose. */
function durationOf(t: Raw): number | null {
  const d = text(t.duration);
  if (d !== undefined && /^\d+$/.test(d)) return Number(d);
  return parseDurationDesc(d) ?? parseDurationDesc(text(t.duration_desc)) ?? null;
}

function mapLocation(t: Raw): Raw | null {
  const name = text(t.location);
  if (name === undefined) return null;
  return {
    name,
    country: orNull(text(t.country)),
    latitude: orNull(numeric(t.lat)),
    longitude: orNull(numeric(t.long)),
  };
}

/** Pure: one <tour> element → canonical Tour (throws TourValidationError). */
function mapCTour(operatorId: string, t: Raw, fallbackId = '(unknown)'): Tour {
  const id = text(t.tour_id);
  const price = text(t.from_price);
  const images = asArray(asRecord(t.images)?.image)
    .map((i) => asRecord(i) ?? {})
    .map((i) => ({ url: text(i.url_large) ?? text(i.url), caption: orNull(text(i.image_desc)) }));
  return validate(operatorId, id ?? fallbackId, {
    operatorId,
    externalId: id,
    title: text(t.tour_name),
    description: text(t.longdesc) ?? text(t.shortdesc) ?? '',
    durationMinutes: durationOf(t),
    price: price === undefined ? null : { amount: numeric(price), currency: text(t.sale_currency) },
    location: mapLocation(t),
    images,
    sourceUpdatedAt: null,
  });
}

/** Pure: list.xml → one page with every tour id; no tour content and no dates in this dialect. */
export function mapCList(xml: string, url = C_LIST_PATH): ListPage {
  const { response } = parseCResponse(xml, url);
  const entries = tours(response).map((t, i): ListEntry => {
    const externalId = text(t.tour_id);
    return externalId === undefined
      ? {
          kind: 'invalid',
          externalId: missingId(i),
          error: `tour at position ${i} of list.xml has no tour_id`,
        }
      : { kind: 'active', externalId, sourceUpdatedAt: null };
  });
  return { entries };
}

/** Pure: show.xml → found/not-found (throws TourValidationError or typed operator errors). */
export function mapCShow(
  operatorId: string,
  xml: string,
  externalId: string,
  url = C_SHOW_PATH,
): FetchResult {
  const { response, notFound } = parseCResponse(xml, url);
  const [tour] = tours(response);
  if (notFound || !tour) return { kind: 'not-found' };
  return { kind: 'found', tour: mapCTour(operatorId, tour, externalId) };
}

export function createDialectCAdapter(options: DialectCOptions): OperatorAdapter {
  const { operatorId, http } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const get = (pathWithQuery: string, acceptStatuses?: number[]) =>
    http.getText(pathWithQuery, {
      headers: cAuthHeaders(options, now(), pathWithQuery),
      acceptStatuses,
      contentType: /xml/i,
    });
  return {
    dialect: 'C',
    supportsDelta: false,
    reportsRemovals: false,
    listingCarriesTours: false, // list.xml has ids and names only
    detailEndpoint: true,
    async listPage(): Promise<ListPage> {
      const res = await get(C_LIST_PATH);
      return mapCList(res.body, res.url);
    },
    async fetchTour(externalId): Promise<FetchResult> {
      const res = await get(withQuery(C_SHOW_PATH, { id: externalId }), [404]);
      if (res.status === 404) return { kind: 'not-found' };
      return mapCShow(operatorId, res.body, externalId, res.url);
    },
  };
}
