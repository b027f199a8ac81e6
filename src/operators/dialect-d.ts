import type { IncomingHttpHeaders } from 'node:http';
import { mapDListItem, mapDProduct } from './dialect-d-mapping.js';
import {
  OperatorApplicationError,
  OperatorCapabilityError,
  OperatorCredentialsError,
  OperatorHttpError,
  OperatorPayloadError,
  type OperatorError,
} from './errors.js';
import type { OperatorHttp, OperatorResponse } from './http.js';
import { jsonArrayElements } from './json-array.js';
import { asRecord, text } from './mapping.js';
import type { FetchResult, ListEntry, ListPage, OperatorAdapter } from './types.js';

/**
 * Dialect D — OCTO, the open standard (octo.travel; the OpenAPI file of octotravel/octo-types, whose
 * zod schemas `@octocloud/types` publishes).
 * GET {base}/products        every product in one JSON array: no paging, no change mark
 * GET {base}/products/{id}   one product
 * Authorization: Bearer <key>; Octo-Capabilities: octo/content, octo/pricing; Accept-Language optional.
 * The listing is read as it arrives (streamListing) and never held whole; the import stages it in
 * PostgreSQL and pages through its copy (src/activities/operator-import/listing.ts).
 */
const D_PRODUCTS_PATH = '/products';
const D_CAPABILITIES = ['octo/content', 'octo/pricing'] as const;
/** Without it a product has no title, description or media: nothing to import. */
const D_REQUIRED_CAPABILITY = 'octo/content';
/** The listing's default cap: full content for every product passes the 5 MiB every other body gets. */
export const DEFAULT_MAX_LISTING_BYTES = 256 * 1024 * 1024;
/** One product's cap within the listing (a product is a few kB; its media are links). */
const MAX_PRODUCT_BYTES = 8 * 1024 * 1024;

export interface DialectDOptions {
  operatorId: string;
  http: OperatorHttp;
  apiKey: string;
  /** Sent as Accept-Language (BCP 47 tags, q-values allowed); unset: the operator's default. */
  acceptLanguage?: string;
  maxListingBytes?: number;
}

/**
 * 4xx answers are read, not judged by their status: the spec puts UNAUTHORIZED, FORBIDDEN and even
 * INTERNAL_SERVER_ERROR under 400. 429 stays with the HTTP module (throttled, after Retry-After), and
 * 5xx too (retried).
 */
const READ_STATUSES = Array.from({ length: 100 }, (_, i) => 400 + i).filter((s) => s !== 429);
const CREDENTIALS_CODES = new Set(['UNAUTHORIZED', 'FORBIDDEN']);

/**
 * Pure: an OCTO error answer (`{ error, errorMessage }`) as a typed failure, or `not-found` for
 * INVALID_PRODUCT_ID. UNAUTHORIZED and FORBIDDEN refuse the credentials whatever the status (so does a
 * bare 401 or 403); INTERNAL_SERVER_ERROR is retried whatever the status; other codes are permanent.
 */
export function readDError(
  operatorId: string,
  status: number,
  body: unknown,
  url: string,
): OperatorError | 'not-found' {
  const b = asRecord(body);
  const code = text(b?.error)?.toUpperCase();
  const message = text(b?.errorMessage) ?? '';
  if ((code && CREDENTIALS_CODES.has(code)) || (!code && (status === 401 || status === 403)))
    return new OperatorCredentialsError(operatorId, url, status, code ?? `HTTP ${status}`, message);
  if (code === 'INVALID_PRODUCT_ID') return 'not-found';
  if (code === 'INTERNAL_SERVER_ERROR')
    return new OperatorHttpError(url, status, `INTERNAL_SERVER_ERROR ${message}`, undefined, true);
  if (code) return new OperatorApplicationError(url, code, message);
  return new OperatorHttpError(url, status, message || '(no OCTO error in the body)');
}

/** Pure: the capabilities an answer says it initialised (its Octo-Capabilities header). */
function grantedCapabilities(headers: IncomingHttpHeaders): string[] | undefined {
  const header = headers['octo-capabilities'];
  if (header === undefined) return undefined;
  return String(header)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
}

function requireContent(operatorId: string, res: Pick<OperatorResponse<unknown>, 'headers' | 'url'>) {
  const granted = grantedCapabilities(res.headers);
  if (!granted?.includes(D_REQUIRED_CAPABILITY))
    throw new OperatorCapabilityError(
      operatorId,
      res.url,
      D_REQUIRED_CAPABILITY,
      res.headers['octo-capabilities'] === undefined ? undefined : String(res.headers['octo-capabilities']),
    );
}

async function readAll(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function createDialectDAdapter(options: DialectDOptions): OperatorAdapter {
  const { operatorId, http } = options;
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    'octo-capabilities': D_CAPABILITIES.join(', '),
    ...(options.acceptLanguage ? { 'accept-language': options.acceptLanguage } : {}),
  };

  async function* streamListing(list: { signal?: AbortSignal } = {}): AsyncGenerator<ListEntry> {
    const res = await http.getStream(D_PRODUCTS_PATH, {
      headers: { ...headers, accept: 'application/json' },
      acceptStatuses: READ_STATUSES,
      maxBytes: options.maxListingBytes ?? DEFAULT_MAX_LISTING_BYTES,
      contentType: /json/i,
      signal: list.signal,
    });
    if (res.status >= 400) {
      const failure = readDError(operatorId, res.status, parseOrUndefined(await readAll(res.body)), res.url);
      // Not-found names one product, never a listing: an empty listing would remove the whole catalog.
      throw failure === 'not-found'
        ? new OperatorPayloadError(res.url, 'the listing answered INVALID_PRODUCT_ID instead of products')
        : failure;
    }
    requireContent(operatorId, res);
    let index = 0;
    for await (const product of jsonArrayElements(res.body, {
      url: res.url,
      maxElementBytes: MAX_PRODUCT_BYTES,
    }))
      yield mapDListItem(operatorId, product, index++);
  }

  return {
    dialect: 'D',
    supportsDelta: false,
    reportsRemovals: false,
    listingCarriesTours: true,
    detailEndpoint: true,
    detailEndpointPromised: true,
    streamListing,
    /**
     * The whole listing as one page, held in memory: for callers that need no more (a check, a dry run).
     * Imports stage streamListing's entries instead.
     */
    async listPage(): Promise<ListPage> {
      const entries: ListEntry[] = [];
      for await (const entry of streamListing()) entries.push(entry);
      return { entries };
    },
    async fetchTour(externalId): Promise<FetchResult> {
      const path = `${D_PRODUCTS_PATH}/${encodeURIComponent(externalId)}`;
      const res = await http.getJson(path, { headers, acceptStatuses: READ_STATUSES });
      if (res.status >= 400) {
        const failure = readDError(operatorId, res.status, res.body, res.url);
        if (failure === 'not-found') return { kind: 'not-found' };
        throw failure;
      }
      requireContent(operatorId, res);
      return { kind: 'found', tour: mapDProduct(operatorId, res.body, externalId) };
    },
  };
}
