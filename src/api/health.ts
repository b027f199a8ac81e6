import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';
import { withTimeout } from './timeout.js';
import { pingDatabase } from '../db/pool.js';

const CHECK_TIMEOUT_MS = 3_000;

/** /healthz: the process answers (liveness). /readyz: its dependencies answer (readiness), naming what failed. */
export function registerHealth(app: FastifyInstance, deps: ApiDeps) {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const [temporal, postgres] = await Promise.all([
      check(() =>
        deps.client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.client.workflowService.getSystemInfo({}),
        ),
      ),
      check(() => pingDatabase(deps.pool)),
    ]);
    const ready = temporal === 'ok' && postgres === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', temporal, postgres });
  });
}

async function check(fn: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS, 'check');
    return 'ok';
  } catch (err) {
    return `unreachable: ${(err as Error).message}`.slice(0, 300);
  }
}
