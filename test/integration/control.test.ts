import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/workflows/import-operator.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/** Pause, resume and cancel an import while it runs, on the real pipeline. */
const SLOW = { tourCount: 16, imagesPerTour: { min: 1, max: 2 }, imageWidth: 400, imageHeight: 267 };

describe('operating a running import', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('control', [
      // C fetches each tour, so its detail requests count the tours fetched; B imports from its list,
      // and its images make its tours slow.
      { id: 'pausable', dialect: 'C', seed: 5, ...SLOW },
      { id: 'cancellable', dialect: 'B', seed: 6, ...SLOW },
    ]);
    p.sim.operator('pausable').addFaults('detail', [{ type: 'latency', ms: 250 }]);
    p.sim.operator('cancellable').addFaults('image', [{ type: 'latency', ms: 250 }]);
  });
  afterAll(async () => p?.close());

  it('pausing stops new tours, resuming finishes, and every tour is imported exactly once', async () => {
    const handle = await p.startImport('pausable', 'full', { window: 2 });
    await until(async () => (await handle.query(progressQuery)).done >= 3);
    await handle.signal(pauseSignal, { reason: 'maintenance window' });
    await until(async () => (await handle.query(progressQuery)).status === 'paused');
    const op = await p.db.pool.query(`SELECT paused, pause_reason FROM operators WHERE id = 'pausable'`);
    expect(op.rows[0]).toEqual({ paused: true, pause_reason: 'maintenance window' });

    await until(async () => (await handle.query(progressQuery)).running === 0);
    const held = await handle.query(progressQuery);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await handle.query(progressQuery)).done).toBe(held.done); // nothing new started while paused
    expect(held.done).toBeLessThan(16);

    const detailBefore = p.sim.operator('pausable').state().requests.detail;
    await handle.signal(resumeSignal);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.progress.done).toBe(16);
    // Each tour fetched once in total: the ones done before the pause were not fetched again.
    expect(p.sim.operator('pausable').state().requests.detail - detailBefore).toBe(16 - held.done);
    const rows = await p.db.pool.query(`SELECT count(*)::int AS n FROM tours WHERE operator_id = 'pausable'`);
    expect(rows.rows[0].n).toBe(16);
    const resumed = await p.db.pool.query(`SELECT paused FROM operators WHERE id = 'pausable'`);
    expect(resumed.rows[0].paused).toBe(false);
  });

  it('cancelling records the run as cancelled, releases the operator and leaves no half-written tour', async () => {
    const handle = await p.startImport('cancellable', 'full', { window: 3 });
    await until(async () => (await handle.query(progressQuery)).done >= 2);
    await handle.cancel();
    const failure = await handle.result().catch((err) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    const run = await p.db.pool.query(`SELECT status, finished_at FROM import_runs WHERE workflow_id = $1`, [
      handle.workflowId,
    ]);
    expect(run.rows[0].status).toBe('cancelled');
    expect(run.rows[0].finished_at).not.toBeNull();
    const op = await p.db.pool.query(`SELECT running_workflow_id FROM operators WHERE id = 'cancellable'`);
    expect(op.rows[0].running_workflow_id).toBeNull();

    // Every stored tour is whole: as many image rows as the operator lists images for it.
    const tours = await p.db.pool.query(
      `SELECT t.external_id, count(ta.*)::int AS images FROM tours t LEFT JOIN tour_assets ta ON ta.tour_id = t.id
        WHERE t.operator_id = 'cancellable' GROUP BY t.external_id`,
    );
    expect(tours.rows.length).toBeGreaterThanOrEqual(2);
    expect(tours.rows.length).toBeLessThan(16);
    for (const t of tours.rows)
      expect(t.images).toBe(p.sim.operator('cancellable').tour(t.external_id)!.images.length);

    // The next import is not blocked by the cancelled one and completes the catalog.
    const next = await (await p.startImport('cancellable', 'full')).result();
    expect(next.status).toBe('completed');
  });

  it('an import terminated without cleanup is closed as failed when the next import takes its lock', async () => {
    const stuck = await p.startImport('pausable', 'full', { force: true, window: 1 });
    await until(async () => (await stuck.query(progressQuery)).running > 0, 'terminated import running');
    await stuck.terminate('simulating a workflow killed from the Web UI');
    const next = await (await p.startImport('pausable', 'full')).result();
    expect(next.status).toBe('completed');
    const { rows } = await p.db.pool.query(
      `SELECT status, finished_at, message FROM import_runs WHERE workflow_id = $1`,
      [stuck.workflowId],
    );
    expect(rows[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/closed without finishing/),
    });
    expect(rows[0].finished_at).not.toBeNull();
  });
});
