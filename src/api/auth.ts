import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Who may read the catalog, /metrics and admin routes: a bearer token (clients, Prometheus), basic auth (browsers). */
export interface ApiCredentials {
  token?: string;
  basic?: { user: string; password: string };
}

/**
 * Routes anyone may call. Probes tell strangers no more than status words (health.ts); blobs are loaded
 * by the website and their keys are content hashes; the webhook authenticates each delivery by its
 * signature. Everything else, including routes added later and unknown paths, needs credentials: the list
 * says what is open, not what is closed.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set([
  '/healthz',
  '/readyz',
  '/blobs/*',
  '/webhooks/operators/:operatorId/tours',
]);

const CHALLENGE = 'Basic realm="tour-import"';

/** Hashing first gives both sides the same length, so the comparison takes the same time whatever was sent. */
function same(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function authorized(header: string | undefined, credentials: ApiCredentials): boolean {
  const [scheme = '', value = ''] = (header ?? '').trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && credentials.token) return same(value, credentials.token);
  if (scheme.toLowerCase() === 'basic' && credentials.basic) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Both compared, always: which of the two was wrong takes no different time.
    const user = same(decoded.slice(0, colon), credentials.basic.user);
    const password = same(decoded.slice(colon + 1), credentials.basic.password);
    return user && password;
  }
  return false;
}

/** Every route not in OPEN_ROUTES answers 401 with a Basic challenge (browsers prompt) unless the request authenticates. */
export function registerAuth(app: FastifyInstance, credentials: ApiCredentials) {
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    if (req.routeOptions.url !== undefined && OPEN_ROUTES.has(req.routeOptions.url)) return;
    if (authorized(req.headers.authorization, credentials)) return;
    return reply.code(401).header('www-authenticate', CHALLENGE).send({ error: 'authentication required' });
  });
}
