import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TourRecord } from './operator-catalog.js';
import { deliver, type DialectHooks, type Outgoing } from './deliver.js';
import { gatewayError } from './dialect-b.js';
import { verifyTourCms } from './dialect-c-auth.js';
import type { SimOperator } from './operator.js';

/**
 * Dialect C (TourCMS-like): XML, the whole catalog in one list, details one by one, signed
 * requests, and application errors as `<error>` text inside HTTP 200.
 * A spent quota answers 403 (not 429) with X-RateLimit-Remaining: 0.
 */
export const dialectCHooks: DialectHooks = {
  notFound: () => xml(200, '<error>NOTFOUND</error>'),
  rateHeaders: (r) => ({
    'x-ratelimit-limit': String(r.limit),
    'x-ratelimit-remaining': String(r.remaining),
  }),
  rateLimited: (r, retryAfter) => ({
    ...xml(403, '<error>Rate limit exceeded</error>'),
    headers: {
      'x-ratelimit-limit': String(r.limit),
      'x-ratelimit-remaining': '0',
      ...(retryAfter === null ? {} : { 'retry-after': String(retryAfter) }),
    },
  }),
  serverError: (status, retryAfter) => gatewayError(status, retryAfter),
};

export function registerDialectC(app: FastifyInstance, op: SimOperator): void {
  app.get(`${op.prefix}/c/tours/list.xml`, (req, reply) =>
    deliver(op, 'list', reply, async () => {
      const denied = authenticate(op, req);
      if (denied) return denied;
      const tours: string[] = [];
      for (const t of op.catalog.active()) {
        tours.push(
          `<tour><tour_id>${t.code}</tour_id><tour_name>${esc(t.title)}</tour_name><has_sale>1</has_sale><location>${esc(t.city)}</location></tour>`,
        );
      }
      return xml(
        200,
        `<error>OK</error><channel_id>${op.credentials.channelId}</channel_id><total_tour_count>${tours.length}</total_tour_count>${tours.join('')}`,
      );
    }),
  );
  app.get(`${op.prefix}/c/tour/show.xml`, (req, reply) =>
    deliver(op, 'detail', reply, async () => {
      const denied = authenticate(op, req);
      if (denied) return denied;
      const id = (req.query as Record<string, string | undefined>).id;
      const index = id === undefined ? undefined : op.catalog.indexOf(id);
      if (index === undefined || op.catalog.isRemoved(index)) return dialectCHooks.notFound();
      return xml(200, `<error>OK</error>${tourXml(op, op.catalog.tour(index))}`);
    }),
  );
}

function authenticate(op: SimOperator, req: FastifyRequest): Outgoing | undefined {
  const full = req.url;
  const relative = full.startsWith(op.prefix) ? full.slice(op.prefix.length) : full;
  const outcome = verifyTourCms(
    { authorization: req.headers.authorization, date: req.headers.date },
    req.method,
    [relative, full],
    op.credentials,
  );
  return outcome === 'OK' ? undefined : xml(200, `<error>${outcome}</error>`);
}

function tourXml(op: SimOperator, t: TourRecord): string {
  const images = t.images
    .map(
      (img) =>
        `<image><url>${esc(op.imageUrl(img.id, 'medium'))}</url><url_thumbnail>${esc(op.imageUrl(img.id, 'thumb'))}</url_thumbnail>` +
        `<url_large>${esc(op.imageUrl(img.id, 'original'))}</url_large><image_desc>${esc(img.caption)}</image_desc></image>`,
    )
    .join('');
  return (
    `<tour><tour_id>${t.code}</tour_id><tour_name>${esc(t.title)}</tour_name><has_sale>1</has_sale>` +
    `<shortdesc>${esc(t.shortDescription)}</shortdesc><longdesc>${cdata(t.description)}</longdesc>` +
    `<duration_desc>${durationText(t.durationMinutes)}</duration_desc><duration>${t.durationMinutes}</duration>` +
    `<from_price>${t.price.toFixed(2)}</from_price><sale_currency>${t.currency}</sale_currency>` +
    `<location>${esc(t.city)}</location><country>${t.countryCode}</country><lat>${t.latitude}</lat><long>${t.longitude}</long>` +
    `<images>${images}</images></tour>`
  );
}

function durationText(minutes: number): string {
  if (minutes >= 1440 && minutes % 1440 === 0) return minutes === 1440 ? '1 day' : `${minutes / 1440} days`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const hours = h === 0 ? '' : h === 1 ? '1 hour' : `${h} hours`;
  return [hours, m ? `${m} minutes` : ''].filter(Boolean).join(' ');
}

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function cdata(s: string): string {
  return `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function xml(status: number, inner: string): Outgoing {
  return {
    status,
    contentType: 'text/xml; charset=utf-8',
    body: Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n<response>${inner}</response>`),
  };
}
