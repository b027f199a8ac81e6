import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { assertValidKey, OCTET_STREAM, variantContentType } from '../../storage/index.js';
import type { ApiDeps } from '../deps.js';
import { html, page } from './html.js';
import { renderOperatorsPage } from './operators-page.js';
import { originalContentType } from '../../db/catalog-pages.js';
import { renderToursPage, renderTourPage } from './tours-page.js';

/**
 * Inline CSS only, images from here (and the CDN, when variants are served from one), no scripts: a
 * tour title cannot run code even if escaping failed.
 */
function pageCsp(publicUrl: string | undefined): string {
  const cdn = publicUrl ? ` ${new URL(publicUrl).origin}` : '';
  return `default-src 'none'; img-src 'self'${cdn}; style-src 'unsafe-inline'; form-action 'self'`;
}

const ToursQuery = z.object({
  q: z
    .string()
    .max(200)
    .default('')
    .transform((s) => s.trim()),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});

export function registerCatalog(app: FastifyInstance, deps: ApiDeps) {
  const sendPage = pageSender(pageCsp(deps.blobPublicUrl));
  app.get('/', async (_req, reply) => sendPage(reply, await renderOperatorsPage(deps)));

  app.get('/tours', async (req, reply) => {
    const parsed = ToursQuery.safeParse(req.query);
    if (!parsed.success)
      return sendPage(reply, notFoundPage('Search text is too long (200 characters at most).'), 400);
    return sendPage(
      reply,
      await renderToursPage(deps.pool, parsed.data.q, parsed.data.page, deps.blobPublicUrl),
    );
  });

  app.get<{ Params: { id: string } }>('/tours/:id', async (req, reply) => {
    const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : undefined;
    const body = id === undefined ? undefined : await renderTourPage(deps.pool, id, deps.blobPublicUrl);
    return body ? sendPage(reply, body) : sendPage(reply, notFoundPage('No such tour.'), 404);
  });

  app.get<{ Params: { '*': string } }>('/blobs/*', async (req, reply) => {
    const key = req.params['*'];
    try {
      assertValidKey(key);
    } catch {
      return reply.code(400).send({ error: 'invalid blob key' });
    }
    const size = await deps.store.size(key);
    if (size === null) return reply.code(404).send({ error: 'no such blob' });
    // Keys are content-addressed: a key's bytes never change, so the key is the ETag and caches keep it forever.
    const etag = `"${key.replaceAll('/', ':')}"`;
    reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox");
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    reply.type(await contentTypeOf(deps, key)).header('content-length', size);
    return reply.send(deps.store.open(key));
  });
}

async function contentTypeOf(deps: ApiDeps, key: string): Promise<string> {
  const variantType = variantContentType(key);
  if (variantType) return variantType;
  const recorded = await originalContentType(deps.pool, key);
  return recorded && /^image\/[a-z0-9.+-]+$/.test(recorded) ? recorded : OCTET_STREAM;
}

function pageSender(csp: string) {
  return (reply: FastifyReply, body: string, code = 200) =>
    reply
      .code(code)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .header('cache-control', 'no-store')
      .send(body);
}

function notFoundPage(message: string): string {
  return page(
    'Not found',
    html`<h1>${message}</h1>
      <p><a href="/tours">Back to the tours</a></p>`,
  );
}
