import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TourRecord } from './operator-catalog.js';
import { deliver, type DialectHooks, type Outgoing } from './deliver.js';
import { hash } from './hash.js';
import type { SimOperator } from './operator.js';

/**
 * Dialect B (Rezdy/GetYourGuide-like): offset paging ordered by productCode, so tours added
 * mid-scan shift later pages; removed tours just vanish; application errors come inside HTTP 200.
 */
export const dialectBHooks: DialectHooks = {
  notFound: () => failure('NOT_FOUND', 'Product not found', 404),
  rateHeaders: () => ({}),
  // Plain 429, no Retry-After whatever the fault asks for: that is this dialect's hard part.
  rateLimited: () => ({
    status: 429,
    contentType: 'text/plain; charset=utf-8',
    body: Buffer.from('Too Many Requests'),
  }),
  serverError: (status, retryAfter) => gatewayError(status, retryAfter),
};

export function registerDialectB(app: FastifyInstance, op: SimOperator): void {
  app.get(`${op.prefix}/v1/products`, (req, reply) =>
    deliver(op, 'list', reply, async () => listProducts(op, req)),
  );
  // An operator serving its listing alone: the path is simply unknown here (Fastify's 404).
  if (!op.servesDetail) return;
  app.get<{ Params: { code: string } }>(`${op.prefix}/v1/products/:code`, (req, reply) =>
    deliver(op, 'detail', reply, async () => {
      const denied = checkKey(op, req);
      if (denied) return denied;
      const index = op.catalog.indexOf(req.params.code);
      if (index === undefined || op.catalog.isRemoved(index))
        return failure('NOT_FOUND', `Product ${req.params.code} not found`, 404);
      return json(200, { requestStatus: { success: true }, product: product(op, op.catalog.tour(index)) });
    }),
  );
}

function listProducts(op: SimOperator, req: FastifyRequest): Outgoing {
  const denied = checkKey(op, req);
  if (denied) return denied;
  const q = req.query as Record<string, string | undefined>;
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return failure('VALIDATION_ERROR', 'limit must be between 1 and 100');
  if (!Number.isInteger(offset) || offset < 0)
    return failure('VALIDATION_ERROR', 'offset must be a non-negative integer');
  let since = 0;
  if (q.updatedSince !== undefined) {
    since = Date.parse(q.updatedSince);
    if (Number.isNaN(since)) return failure('VALIDATION_ERROR', 'updatedSince must be an ISO 8601 timestamp');
  }
  const sorted = op.catalog.sortedActive(since);
  const products = [];
  for (let k = offset; k < Math.min(sorted.length, offset + limit); k++) {
    products.push(product(op, op.catalog.tour(op.catalog.indexOfValue(sorted[k]))));
  }
  return json(200, { requestStatus: { success: true }, products });
}

function checkKey(op: SimOperator, req: FastifyRequest): Outgoing | undefined {
  const key = (req.query as Record<string, string | undefined>).apiKey;
  return key === op.credentials.apiKey
    ? undefined
    : failure('AUTHENTICATION_FAILED', 'Invalid or missing apiKey');
}

function product(op: SimOperator, t: TourRecord) {
  // Deterministically, every third product describes its images with a URL template instead.
  const templated = hash(op.catalog.seed, t.index, 'template') % 3 === 0;
  const images = templated
    ? { imageTemplates: t.images.map((img) => ({ url: `${op.baseUrl}/img/${img.id}/[format_id].jpg` })) }
    : {
        images: t.images.map((img) => ({
          itemUrl: op.imageUrl(img.id, 'original'),
          thumbnailUrl: op.imageUrl(img.id, 'thumb'),
          mediumSizeUrl: op.imageUrl(img.id, 'medium'),
          largeSizeUrl: op.imageUrl(img.id, 'large'),
        })),
      };
  return {
    productCode: t.code,
    name: t.title,
    shortDescription: t.shortDescription,
    description: t.description,
    durationMinutes: t.durationMinutes,
    advertisedPrice: t.price,
    currency: t.currency,
    locationAddress: {
      city: t.city,
      countryCode: t.countryCode,
      latitude: t.latitude,
      longitude: t.longitude,
    },
    dateUpdated: new Date(t.updatedAt).toISOString(),
    ...images,
  };
}

function failure(errorCode: string, errorMessage: string, status = 200): Outgoing {
  return json(status, { requestStatus: { success: false, error: { errorCode, errorMessage } } });
}

function json(status: number, body: unknown): Outgoing {
  return { status, contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(body)) };
}

/** What a load balancer in front of the API answers with: HTML, not the API's JSON. */
export function gatewayError(status: number, retryAfter?: number): Outgoing {
  const text =
    status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Unavailable' : 'Internal Server Error';
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: Buffer.from(
      `<html><head><title>${status} ${text}</title></head><body><h1>${status} ${text}</h1></body></html>`,
    ),
    headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
  };
}
