import { NativeConnection } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectClient } from '../infra/temporal-client.js';
import { config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensurePostgres } from '../infra/postgres.js';
import { assertTemporalReachable } from '../infra/temporal.js';
import { loadOperatorsFile, type OperatorConfig } from '../operators/registry.js';
import { createAdapterResolver } from '../operators/resolver.js';
import { createLocalBlobStore } from '../storage/index.js';
import type { WorkerDeps } from './create.js';

/** The real dependencies of a worker process, built once from configuration. */
export async function buildWorkerDeps(): Promise<
  WorkerDeps & { configs: OperatorConfig[]; close(): Promise<void> }
> {
  const cfg = config();
  const url = await ensurePostgres();
  await migrate(url, cfg.database.schema);
  const pool: Pool = createPool(url, cfg.database.schema, 20);
  const address = await assertTemporalReachable();
  const connection = await NativeConnection.connect({ address });
  const client = await connectClient(address);
  const configs = await loadOperatorsFile(cfg.operatorsFile);
  return {
    connection,
    namespace: cfg.temporal.namespace,
    pool,
    store: createLocalBlobStore(cfg.blobDir),
    configs,
    adapterFor: createAdapterResolver(configs, { pool, secret: cfg.secret }),
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
