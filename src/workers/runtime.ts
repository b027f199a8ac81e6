import { NativeConnection } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectClient } from '../infra/temporal-client.js';
import { config, ConfigError, exitOnConfigError } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensurePostgres } from '../infra/postgres.js';
import { assertTemporalReachable } from '../infra/temporal-reachable.js';
import { loadSinks } from '../notify/sinks.js';
import { OperatorConfigError } from '../operators/errors.js';
import { loadOperatorsFile } from '../operators/registry.js';
import { pauseOperatorSchedules, unpauseOperatorSchedules } from '../schedules/apply.js';
import { registerOperators } from '../operators/resolver.js';
import { createBlobStore } from '../storage/index.js';
import type { WorkerDeps } from './create.js';

/** Everything a worker needs except operator adapters, which only the tour-import worker uses. */
export type WorkerBaseDeps = Omit<WorkerDeps, 'adapterFor'> & { close(): Promise<void> };

/** The real dependencies of a worker process, built once from configuration. */
export async function buildWorkerDeps(): Promise<WorkerBaseDeps> {
  const cfg = config();
  const url = await ensurePostgres();
  await migrate(url, cfg.database.schema);
  const pool: Pool = createPool(url, cfg.database.schema, 20);
  const options = await assertTemporalReachable();
  const connection = await NativeConnection.connect(options);
  const client = await connectClient(options.address);
  return {
    connection,
    namespace: cfg.temporal.namespace,
    pool,
    store: createBlobStore(cfg.blobs, cfg.blobDir),
    schedules: {
      pause: (operatorId, note) => pauseOperatorSchedules(client, operatorId, note),
      unpause: (operatorId, note) => unpauseOperatorSchedules(client, operatorId, note),
    },
    isWorkflowRunning: async (workflowId) => {
      try {
        return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    images: {
      widths: cfg.images.widths,
      formats: cfg.images.formats,
      maxPixels: cfg.images.maxPixels,
      maxBytes: cfg.images.maxBytes,
      allowPrivateHosts: cfg.allowPrivateHosts,
      recheckAfterMs: cfg.images.recheckAfterMs,
    },
    async close() {
      await connection.close();
      await client.connection.close();
      await pool.end();
    },
  };
}

/**
 * The operators file's adapters, its settings registered in PostgreSQL first (see registerOperators).
 * Only the tour-import worker loads the file: an image worker with an older copy of it must not register
 * settings that no adapter runs with.
 */
export async function operatorAdapters(pool: Pool): Promise<WorkerDeps['adapterFor']> {
  const cfg = config();
  return registerOperators(pool, await loadOperatorsFile(cfg.operatorsFile), cfg.secret);
}

/** The notification sinks of the operators file and the environment (docs/operations.md: Notifications). */
/** The sinks of the operators file and the environment; a bad one ends the process in one line. */
export async function notificationSinks(): Promise<WorkerDeps['sinks']> {
  const cfg = config();
  try {
    return await loadSinks(cfg.operatorsFile, cfg.secret, cfg.notify());
  } catch (err) {
    if (!(err instanceof OperatorConfigError)) throw err;
    return exitOnConfigError(() => {
      throw new ConfigError(err.message);
    });
  }
}
