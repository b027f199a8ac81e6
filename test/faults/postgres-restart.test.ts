import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseIfMissing } from '../../src/db/database.js';
import { startPrivateCluster, stopPrivateCluster } from '../../tooling/servers/private-postgres.js';
import { importTourWorkflowId } from '../../src/constants.js';
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
          id: 'pictures',
          dialect: 'B',
          seed: 10,
          tourCount: 12,
          imagesPerTour: { min: 2, max: 2 },
          imageWidth: 400,
          imageHeight: 267,
        },
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
    p.sim.operator('pictures').addFaults('image', [{ type: 'latency', ms: 300 }]);
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

  it('an outage longer than the image activities retry for stores no image as failed, and trips no breaker', async () => {
    const handle = await p.startImport('pictures', 'full', {
      window: 4,
      retry: { initialIntervalMs: 200, maximumAttempts: 2 },
    });
    const op = p.sim.operator('pictures');
    await until(async () => op.state().requests.image >= 2, 'images downloading');
    await stopPrivateCluster(dir);
    // Down until an image activity has used up its attempts against it: the whole retry policy failed.
    await until(() => imageActivityFailed(op.activeCodes()), 'an image activity failing for good', 120_000);
    await startPrivateCluster(() => undefined, dir);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 12, failed: 0, paused: false });
    const { rows } = await p.db.pool.query(
      `SELECT ta.status, count(*)::int AS n FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
        WHERE t.operator_id = 'pictures' GROUP BY ta.status`,
    );
    expect(rows).toEqual([{ status: 'ready', n: 24 }]);
  });

  /** Whether an ImportTour of these tours recorded an activity that failed after all its attempts. */
  async function imageActivityFailed(codes: string[]): Promise<boolean> {
    for (const code of codes) {
      const history = await p.env.client.workflow
        .getHandle(importTourWorkflowId('pictures', code))
        .fetchHistory()
        .catch(() => undefined);
      if (history?.events?.some((e) => e.activityTaskFailedEventAttributes)) return true;
    }
    return false;
  }
});
