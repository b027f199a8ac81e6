import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseIfMissing } from '../../src/db/database.js';
import { startPrivateCluster, stopPrivateCluster } from '../../src/infra/postgres.js';
import { progressQuery } from '../../src/workflows/import-operator.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { clusterFolder } from '../helpers/cluster-folder.js';
import { until } from '../helpers/wait.js';

/**
 * Restart PostgreSQL mid-import: activities retry, the pools reconnect (no unhandled pool error crashes
 * the workers, which run in this process), and nothing is lost. Uses a private cluster the test owns.
 */
describe('fault: PostgreSQL restarts mid-import', () => {
  let parent: string;
  let dir: string;
  let p: Pipeline;
  beforeAll(async () => {
    ({ parent, dir } = clusterFolder('pg-restart-'));
    const url = await startPrivateCluster(() => undefined, dir);
    await createDatabaseIfMissing(url);
    p = await startPipeline(
      'pgrestart',
      [
        {
          id: 'steady',
          dialect: 'B',
          seed: 9,
          tourCount: 16,
          imagesPerTour: { min: 1, max: 1 },
          imageWidth: 400,
          imageHeight: 267,
        },
      ],
      {
        databaseUrl: url,
      },
    );
    p.sim.operator('steady').addFaults('detail', [{ type: 'latency', ms: 200 }]);
  });
  afterAll(async () => {
    await p?.close();
    await stopPrivateCluster(dir).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  });

  it('the import completes with every tour stored once', async () => {
    const handle = await p.startImport('steady', 'full', {
      window: 2,
      retry: { initialIntervalMs: 500, maximumAttempts: 10 },
    });
    await until(async () => (await handle.query(progressQuery)).done >= 3, 'first tours imported');
    await stopPrivateCluster(dir);
    await new Promise((r) => setTimeout(r, 2_000)); // activities fail against the stopped server meanwhile
    await startPrivateCluster(() => undefined, dir);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 16, failed: 0 });
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS tours, count(DISTINCT external_id)::int AS distinct_tours,
              (SELECT count(*)::int FROM tour_assets WHERE status = 'ready') AS ready_images,
              (SELECT count(*)::int FROM staged_tours WHERE persisted_outcome IS NULL) AS staged
         FROM tours WHERE operator_id = 'steady'`,
    );
    expect(rows[0]).toEqual({ tours: 16, distinct_tours: 16, ready_images: 16, staged: 0 });
  });
});
