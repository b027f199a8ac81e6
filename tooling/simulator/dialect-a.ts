import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SimError, type FeedKey, type TourRecord } from './operator-catalog.js';
import { deliver, type DialectHooks, type Outgoing } from './deliver.js';
import type { SimOperator } from './operator.js';
import { toPlainText } from './text.js';

/** Dialect A (Viator-like): cursor feed ordered by (lastUpdatedAt, productCode), with tombstones. */
export const dialectAHooks: DialectHooks = {
  notFound: () => json(404, errorBody('NOT_FOUND', 'Product not found')),
  rateHeaders: (r) => ({
    'ratelimit-limit': String(r.limit),
    'ratelimit-remaining': String(r.remaining),
    'ratelimit-reset': String(r.resetSeconds),
  }),
  rateLimited: (r, retryAfter) => ({
    ...json(429, errorBody('TOO_MANY_REQUESTS', 'Rate limit exceeded, slow down.')),
    headers: {
      'ratelimit-limit': String(r.limit),
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(r.resetSeconds),
      ...(retryAfter === null ? {} : { 'retry-after': String(retryAfter) }),
    },
  }),
  serverError: (status, retryAfter) => ({
    ...json(
      status,
      errorBody(status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR', 'Something went wrong.'),
    ),
    headers: retryAfter === undefined ? undefined : { 'retry-after': String(retryAfter) },
  }),
};

export function registerDialectA(app: FastifyInstance, op: SimOperator): void {
  app.get(`${op.prefix}/partner/products/modified-since`, (req, reply) =>
    deliver(op, 'list', reply, async () => modifiedSince(op, req)),
  );
  // An operator serving its listing alone: the path is simply unknown here (Fastify's 404).
  if (!op.servesDetail) return;
  app.get<{ Params: { code: string } }>(`${op.prefix}/partner/products/:code`, (req, reply) =>
    deliver(op, 'detail', reply, async () => {
      const denied = checkHeaders(op, req);
      if (denied) return denied;
      const index = op.catalog.indexOf(req.params.code);
      const removed = index !== undefined && op.catalog.isRemoved(index);
      if (removed && op.spec.detailTombstones) return json(200, tombstone(op.catalog.tour(index)));
      if (index === undefined || removed)
        return json(404, errorBody('NOT_FOUND', `Product ${req.params.code} not found`));
      return json(200, product(op, op.catalog.tour(index)));
    }),
  );
}

function modifiedSince(op: SimOperator, req: FastifyRequest): Outgoing {
  const denied = checkHeaders(op, req);
  if (denied) return denied;
  const q = req.query as Record<string, string | undefined>;
  const count = q.count === undefined ? 50 : Number(q.count);
  if (!Number.isInteger(count) || count < 1 || count > 500)
    return badRequest('count must be an integer from 1 to 500');
  if (q.cursor !== undefined && q['modified-since'] !== undefined)
    return badRequest('Use either cursor or modified-since, not both');
  let after: FeedKey = { t: -Infinity, code: '' };
  try {
    if (q.cursor !== undefined) after = decodeCursor(q.cursor);
    else if (q['modified-since'] !== undefined) after = sinceKey(q['modified-since']);
  } catch (e) {
    return badRequest((e as Error).message);
  }
  const records = op.catalog.feed(after, count);
  const last = records.at(-1);
  const body: Record<string, unknown> = {
    products: records.map((t) => (t.removed ? tombstone(t) : product(op, t))),
  };
  // Viator-style: a non-empty page always carries a cursor; an empty page without one ends the feed.
  if (last) body.nextCursor = encodeCursor({ t: last.updatedAt, code: last.code });
  return json(200, body);
}

function checkHeaders(op: SimOperator, req: FastifyRequest): Outgoing | undefined {
  if (req.headers['exp-api-key'] !== op.credentials.apiKey)
    return json(401, errorBody('UNAUTHORIZED', 'Missing or invalid exp-api-key'));
  const accept = String(req.headers.accept ?? '')
    .replace(/\s+/g, '')
    .toLowerCase();
  if (!accept.split(',').includes('application/json;version=2.0'))
    return badRequest('Accept header must be application/json;version=2.0');
  return undefined;
}

function encodeCursor(key: FeedKey): string {
  return Buffer.from(`${key.t}|${key.code}`, 'utf8').toString('base64');
}

function decodeCursor(cursor: string): FeedKey {
  const m = /^(\d+)\|(.+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m) throw new SimError(400, 'Invalid cursor');
  return { t: Number(m[1]), code: m[2] };
}

/** Everything updated at or after the instant: a key just before it. */
function sinceKey(iso: string): FeedKey {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new SimError(400, 'modified-since must be an ISO 8601 timestamp');
  return { t: t - 1, code: '\uffff' };
}

function tombstone(t: TourRecord) {
  return { productCode: t.code, status: 'INACTIVE', lastUpdatedAt: new Date(t.updatedAt).toISOString() };
}

function product(op: SimOperator, t: TourRecord) {
  const full = op.imageSize();
  return {
    productCode: t.code,
    status: 'ACTIVE',
    title: t.title,
    description: toPlainText(t.description),
    duration: { fixedDurationInMinutes: t.durationMinutes },
    pricing: { summary: { fromPrice: t.price }, currency: t.currency },
    destination: { name: t.city, country: t.country },
    lastUpdatedAt: new Date(t.updatedAt).toISOString(),
    images: t.images.map((img, i) => ({
      isCover: i === 0,
      caption: img.caption,
      // Not sorted by size on purpose: clients must pick the largest variant themselves.
      variants: [
        { url: op.imageUrl(img.id, 'medium'), ...op.imageSize(800) },
        { url: op.imageUrl(img.id, 'original'), ...full },
        { url: op.imageUrl(img.id, 'thumb'), ...op.imageSize(200) },
      ],
    })),
  };
}

function errorBody(code: string, message: string) {
  return { code, message, timestamp: new Date().toISOString(), trackingId: randomUUID() };
}

function badRequest(message: string): Outgoing {
  return json(400, errorBody('BAD_REQUEST', message));
}

function json(status: number, body: unknown): Outgoing {
  return { status, contentType: 'application/json;version=2.0', body: Buffer.from(JSON.stringify(body)) };
}
