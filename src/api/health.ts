import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';
import { authorized, type ApiCredentials } from './auth.js';
import { withTimeout } from './timeout.js';
import { pingDatabase } from '../db/pool.js';

const CHECK_TIMEOUT_MS = 3_000;

type Check = { ok: true } | { ok: false; error: string };

/**
 * /healthz: the process answers (liveness). /readyz: its dependencies answer (readiness), naming what
 * failed. It is open (probes carry no credentials), so anyone gets only the status words; the errors
 * themselves name internal hosts and database users, and go to callers with the API's credentials (to
 * everyone where none are configured: in development every route is open anyway).
 */
export function registerHealth(app: FastifyInstance, deps: ApiDeps, credentials?: ApiCredentials) {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    const [temporal, postgres] = await Promise.all([
      check(() =>
        deps.client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.client.workflowService.getSystemInfo({}),
        ),
      ),
      check(() => pingDatabase(deps.pool)),
    ]);
    const ready = temporal.ok && postgres.ok;
    const details = !credentials || authorized(req.headers.authorization, credentials);
    const word = (c: Check) =>
      c.ok ? 'ok' : details ? `unreachable: ${c.error}`.slice(0, 300) : 'unreachable';
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', temporal: word(temporal), postgres: word(postgres) });
  });
}

async function check(fn: () => Promise<unknown>): Promise<Check> {
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS, 'check');
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
