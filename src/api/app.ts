import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { TASK_QUEUES } from '../constants.js';
import { registerAuth } from './auth.js';
import { registerCatalog } from './catalog/routes.js';
import type { ApiDeps, ApiOptions } from './deps.js';
import { registerHealth } from './health.js';
import { createMetrics, registerMetrics } from './metrics.js';
import { CHECK_DEADLINE_MS, defaultImageLimits, registerOperatorCheck } from './operator-check.js';
import { registerOperatorControl } from './operator-control.js';
import { DELIVERY_TAKEOVER_MS, registerWebhook } from './webhook.js';

export type { ApiOptions } from './deps.js';

/**
 * The HTTP API: push-import webhook, health and readiness, Prometheus metrics, and the catalog page.
 * Everything but the probes, the signed webhook and /blobs/ needs credentials (auth.ts).
 * Dependencies come in from the caller (main.ts or a test), so tests run it against their own pipeline.
 */
export async function createApi(options: ApiOptions): Promise<FastifyInstance> {
  const { logger, credentials, ...rest } = options;
  const deps: ApiDeps = {
    taskQueue: TASK_QUEUES.tourImport,
    imageTaskQueue: TASK_QUEUES.imageProcessing,
    namespace: 'default',
    deliveryTakeoverMs: DELIVERY_TAKEOVER_MS,
    imageLimits: defaultImageLimits(),
    checkDeadlineMs: CHECK_DEADLINE_MS,
    ...rest,
    sinks: rest.sinks ?? [],
  };
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // Operator ids and tour ids are case-sensitive; trailing slashes are not meaningful.
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 64 * 1024,
  });

  // Client mistakes keep their 4xx; anything else is logged and answered without internals. No route
  // turns bad input into a 500.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'request body is too large'
        : status < 500
          ? err.message
          : 'internal error';
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

  // Before any route: a route is closed unless auth.ts lists it as open.
  if (credentials) registerAuth(app, credentials);
  const metrics = createMetrics(deps.pool);
  registerHealth(app, deps, credentials);
  registerMetrics(app, metrics.registry);
  registerWebhook(app, deps, metrics.countWebhook);
  registerCatalog(app, deps);
  registerOperatorControl(app, deps);
  registerOperatorCheck(app, deps);
  await app.ready();
  return app;
}
