import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deliver, type DialectHooks, type Outgoing } from './deliver.js';
import { octoProduct, type ProductView } from './dialect-d-product.js';
import type { SimOperator } from './operator.js';

/**
 * Dialect D — OCTO, the open standard: `GET /products` answers every product in one array,
 * `GET /products/{id}` one. Bearer auth; capabilities asked for per request (Octo-Capabilities) and
 * answered with those initialised; content in the language Accept-Language prefers among the
 * operator's (Content-Language says which). Errors are the spec's `{ error, errorMessage }`:
 * INVALID_PRODUCT_ID, UNAUTHORIZED and FORBIDDEN (under 400 where the spec documents them, when told
 * to), INTERNAL_SERVER_ERROR. Every answer validates against `@octocloud/types` (test/unit/simulator).
 */
const OCTO_SUPPORTED_CAPABILITIES = ['octo/content', 'octo/pricing'] as const;

export const dialectDHooks: DialectHooks = {
  notFound: () =>
    octoError(400, 'INVALID_PRODUCT_ID', 'The productId was missing or invalid', { productId: '' }),
  rateHeaders: () => ({}),
  rateLimited: (_r, retryAfter) => ({
    ...octoError(429, 'TOO_MANY_REQUESTS', 'Too many requests, slow down'),
    headers: retryAfterHeader(retryAfter ?? undefined),
  }),
  serverError: (status, retryAfter) => ({
    ...octoError(status, 'INTERNAL_SERVER_ERROR', 'There was an un-recoverable error, please try again'),
    headers: retryAfterHeader(retryAfter),
  }),
};

function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

export function registerDialectD(app: FastifyInstance, op: SimOperator): void {
  app.get(`${op.prefix}/products`, (req, reply) =>
    deliver(op, 'list', reply, async () => {
      const denied = authenticate(op, req);
      if (denied) return denied;
      const view = viewFor(op, req);
      const products = [...op.catalog.active()].map((t) => octoProduct(op, t, view));
      return withCapabilities(json(200, products), view);
    }),
  );
  app.get<{ Params: { id: string } }>(`${op.prefix}/products/:id`, (req, reply) =>
    deliver(op, 'detail', reply, async () => {
      const denied = authenticate(op, req);
      if (denied) return denied;
      const index = op.catalog.indexOf(req.params.id);
      if (index === undefined || op.catalog.isRemoved(index))
        return octoError(400, 'INVALID_PRODUCT_ID', 'The productId was missing or invalid', {
          productId: req.params.id,
        });
      const view = viewFor(op, req);
      return withCapabilities(json(200, octoProduct(op, op.catalog.tour(index), view)), view);
    }),
  );
}

/** No key: UNAUTHORIZED; a wrong one: FORBIDDEN — as 401 / 403, or under 400 as the spec documents them. */
function authenticate(op: SimOperator, req: FastifyRequest): Outgoing | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
  const under400 = op.spec.octo.authErrorsAs400;
  if (!match)
    return octoError(
      under400 ? 400 : 401,
      'UNAUTHORIZED',
      "You didn't send the API Key in the Authorization header to an endpoint that requires authentication",
    );
  if (match[1].trim() !== op.credentials.apiKey)
    return octoError(
      under400 ? 400 : 403,
      'FORBIDDEN',
      'You sent an API Key that was invalid or has been revoked by the backend system',
    );
  return undefined;
}

/** What this answer carries: the capabilities asked for that the operator grants, and its language. */
function viewFor(
  op: SimOperator,
  req: FastifyRequest,
): ProductView & { granted: string[]; languages: string[] } {
  const asked = String(req.headers['octo-capabilities'] ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase());
  const granted = OCTO_SUPPORTED_CAPABILITIES.filter(
    (c) => asked.includes(c) && (c !== 'octo/content' || op.spec.octo.grantContent),
  );
  const languages = op.spec.octo.languages;
  return {
    granted,
    content: granted.includes('octo/content'),
    pricing: granted.includes('octo/pricing'),
    language: preferredLanguage(String(req.headers['accept-language'] ?? ''), languages),
    defaultLanguage: languages[0],
    languages,
  };
}

/** The operator's language Accept-Language ranks highest (by q, then order; a primary tag matches too). */
export function preferredLanguage(header: string, languages: string[]): string {
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = Number(/q=([\d.]+)/.exec(params.join(';'))?.[1] ?? 1);
      return { tag: tag.trim().toLowerCase(), q: Number.isNaN(q) ? 0 : q, i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === '*') return languages[0];
    const found =
      languages.find((l) => l.toLowerCase() === tag) ??
      languages.find((l) => l.toLowerCase().split('-')[0] === tag.split('-')[0]);
    if (found) return found;
  }
  return languages[0];
}

function withCapabilities(out: Outgoing, view: ReturnType<typeof viewFor>): Outgoing {
  const languages: Record<string, string> = view.content
    ? { 'content-language': view.language, 'available-languages': view.languages.join(', ') }
    : {};
  return { ...out, headers: { 'octo-capabilities': view.granted.join(', '), ...languages } };
}

function octoError(
  status: number,
  error: string,
  errorMessage: string,
  extra: Record<string, string> = {},
): Outgoing {
  return json(status, { error, errorMessage, ...extra });
}

function json(status: number, body: unknown): Outgoing {
  return { status, contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(body)) };
}
