import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { loadConfig } from '../config.js';
// The same function as `tour-import check`: one check, whichever door is used.
import { checkOperator, type ImageLimits } from '../operations/check.js';
import type { ApiDeps } from './deps.js';

/** Well under the 30 to 60 s after which proxies and load balancers give up on an answer. */
export const CHECK_DEADLINE_MS = 20_000;

/** The image limits of an environment that sets none (src/config.ts's defaults): no private host allowed. */
export function defaultImageLimits(): ImageLimits {
  const { images, allowPrivateHosts } = loadConfig({});
  return { maxBytes: images.maxBytes, maxPixels: images.maxPixels, allowPrivateHosts };
}

/** Image URLs a caller may ask to have sampled: each is a download and a decode within the deadline. */
const MAX_SAMPLE_IMAGES = 20;

const CheckQuery = z.strictObject(
  { images: z.coerce.number().int().min(0).max(MAX_SAMPLE_IMAGES).optional() },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' && issue.keys.includes('all')
        ? 'every page is checked by the command line only: tour-import check <operator> --all'
        : undefined,
  },
);

/**
 * `GET /operators/:operatorId/check[?images=N]`: `tour-import check`'s report, as JSON, for an operator
 * of the operators file the API loaded. Bounded by a deadline well under a proxy's timeout: the
 * report then says what was seen until then (`cutShort`). Authenticated like every admin route.
 */
export function registerOperatorCheck(app: FastifyInstance, deps: ApiDeps) {
  app.get<{ Params: { operatorId: string } }>('/operators/:operatorId/check', async (req, reply) => {
    const query = CheckQuery.safeParse(req.query);
    if (!query.success)
      return reply.code(400).send({ error: query.error.issues.map((i) => i.message).join('; ') });
    const { operatorId } = req.params;
    if (!deps.operators.some((o) => o.id === operatorId))
      return reply.code(404).send({ error: `unknown operator "${operatorId}" (not in the operators file)` });
    return checkOperator(
      { operators: deps.operators, secret: deps.secret, pool: deps.pool, images: deps.imageLimits },
      operatorId,
      { sampleImages: query.data.images, deadlineMs: deps.checkDeadlineMs },
    );
  });
}
