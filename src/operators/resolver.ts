import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../db/pool.js';
import { reserveRequestSlot, upsertOperator } from '../db/operators.js';
import { OperatorConfigError } from './errors.js';
import type { RateLimiter } from './http.js';
import { createAdapter, syncedOperator, type OperatorConfig } from './registry.js';
import type { OperatorAdapter } from './types.js';

/**
 * A rate limiter shared by every worker on every host: request slots are reserved in the operator's
 * PostgreSQL row, so a big fan-out stays under the operator's configured rate as a whole.
 */
export function sharedDbRateLimiter(pool: Pool, operatorId: string, perSecond: number): RateLimiter {
  return {
    async acquire() {
      const waitMs = await reserveRequestSlot(pool, operatorId, perSecond);
      if (waitMs > 0) await sleep(waitMs);
    },
  };
}

/** Adapters by operator id, built once per process from the operators file and the environment's secrets. */
export function createAdapterResolver(
  configs: OperatorConfig[],
  deps: { pool: Pool; secret: (envName: string) => string | undefined },
): (operatorId: string) => Promise<OperatorAdapter> {
  const byId = new Map(configs.map((c) => [c.id, c]));
  const adapters = new Map<string, OperatorAdapter>();
  return async (operatorId) => {
    const known = adapters.get(operatorId);
    if (known) return known;
    const op = byId.get(operatorId);
    if (!op) throw new OperatorConfigError(`operator "${operatorId}" is not in the operators file`);
    const adapter = createAdapter(op, {
      secret: deps.secret,
      rateLimiter: sharedDbRateLimiter(deps.pool, op.id, op.rateLimit.requestsPerSecond),
    });
    adapters.set(operatorId, adapter);
    return adapter;
  };
}

/**
 * The adapters of a worker process, built from the operators file it loaded once that file's settings are
 * registered in PostgreSQL. One source of truth: activities read an operator's settings (window, breaker,
 * delta…) from its row, adapters come from the file, and the API registers the file it loads on start
 * too; registering before any adapter exists means a running process never pairs its file with a stale
 * row left by an earlier file. Edit the file, restart the processes: each one registers what it loaded.
 */
export async function registerOperators(
  pool: Pool,
  configs: OperatorConfig[],
  secret: (envName: string) => string | undefined,
): Promise<(operatorId: string) => Promise<OperatorAdapter>> {
  await syncOperators(pool, configs);
  return createAdapterResolver(configs, { pool, secret });
}

/** Writes the configured operators' non-secret settings into PostgreSQL (pause state and marks are kept). */
export async function syncOperators(pool: Pool, configs: OperatorConfig[]): Promise<void> {
  for (const c of configs) {
    const row = syncedOperator(c);
    await upsertOperator(pool, {
      id: row.id,
      name: row.name,
      dialect: row.dialect,
      baseUrl: row.base_url,
      settings: row.settings,
    });
  }
}
