import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deliver, type Outgoing } from './deliver.js';
import { IMAGE_FORMATS, type ImageFormat, type SimOperator } from './operator.js';

/**
 * `${base}/img/<id>.jpg[?w=<width>]` and the template form `${base}/img/<id>/<format_id>.jpg`
 * with format_id one of original, large, medium, thumb.
 */
export function registerImageRoutes(app: FastifyInstance, op: SimOperator): void {
  app.get<{ Params: { file: string }; Querystring: { w?: string } }>(
    `${op.prefix}/img/:file`,
    (req, reply) => {
      const id = req.params.file.replace(/\.jpe?g$/, '');
      const w = req.query.w === undefined ? undefined : Number(req.query.w);
      return deliver(op, 'image', reply, () => serveImage(op, req, id, w));
    },
  );
  app.get<{ Params: { id: string; format: string } }>(`${op.prefix}/img/:id/:format`, (req, reply) => {
    const format = req.params.format.replace(/\.jpe?g$/, '');
    const known = Object.hasOwn(IMAGE_FORMATS, format);
    const w = known ? IMAGE_FORMATS[format as ImageFormat] || undefined : NaN;
    return deliver(op, 'image', reply, () => serveImage(op, req, req.params.id, w));
  });
}

async function serveImage(
  op: SimOperator,
  req: FastifyRequest,
  id: string,
  width: number | undefined,
): Promise<Outgoing> {
  const meta = op.catalog.image(id);
  if (!meta || Number.isNaN(width)) return notFound();
  const size = op.imageSize(width);
  const img = await op.images.get({ seed: op.imageSeed(id, meta.rev), ...size });
  const headers = {
    etag: img.etag,
    'last-modified': new Date(meta.at).toUTCString(),
    'cache-control': 'public, max-age=86400',
  };
  if (matches(req.headers['if-none-match'], img.etag))
    return { status: 304, contentType: 'image/jpeg', body: Buffer.alloc(0), headers };
  return { status: 200, contentType: 'image/jpeg', body: img.bytes, headers };
}

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2), and may list several tags or `*`. */
function matches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}

function notFound(): Outgoing {
  return { status: 404, contentType: 'text/plain; charset=utf-8', body: Buffer.from('Not Found') };
}
