import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pauseOperator, resumeOperator } from '../../src/operations/pause.js';
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
      { id: 'racy', dialect: 'B', seed: 7, tourCount: 10, imagesPerTour: { min: 0, max: 0 } },
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

  describe('a pause and an import that begins at the same moment', () => {
    // The test holds the operator's row, so the pause and the import's begin both wait for it and then
    // run one after the other, in the order they asked: the interleaving happens on every run.
    let rowHolder: pg.PoolClient;
    let holderPid: number;
    const control = () => ({ pool: p.db.pool, client: p.env.client });
    // Waiting for the row: blocked by the holder, or queued behind one that is (pg_blocking_pids).
    const waitingOnTheRow = async () => {
      const { rows } = await p.db.pool.query(
        `WITH RECURSIVE waiting (pid) AS (
           SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))
           UNION SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY (pg_blocking_pids(a.pid)))
         SELECT count(*)::int AS n FROM waiting`,
        [holderPid],
      );
      return rows[0].n as number;
    };
    async function holdTheRow() {
      rowHolder = await p.db.pool.connect();
      holderPid = (await rowHolder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await rowHolder.query('BEGIN');
      await rowHolder.query(`SELECT 1 FROM operators WHERE id = 'racy' FOR UPDATE`);
    }
    async function letGo() {
      await rowHolder.query('COMMIT');
      rowHolder.release();
    }

    it('pause first: the import finds the operator paused and is skipped', async () => {
      await holdTheRow();
      const pausing = pauseOperator(control(), 'racy', 'maintenance');
      await until(async () => (await waitingOnTheRow()) === 1, 'the pause waiting for the row');
      const handle = await p.startImport('racy', 'full');
      await until(async () => (await waitingOnTheRow()) === 2, "the import's begin waiting for the row");
      await letGo();
      expect((await pausing).signalled).toBeNull();
      const result = await handle.result();
      expect(result).toMatchObject({
        status: 'skipped',
        message: expect.stringMatching(/is paused \(maintenance\)/),
      });
      const op = await p.db.pool.query(`SELECT paused, running_workflow_id FROM operators WHERE id = 'racy'`);
      expect(op.rows[0]).toEqual({ paused: true, running_workflow_id: null });
      await resumeOperator(control(), 'racy');
    });

    it('begin first: the pause finds the import holding the lock and pauses it', async () => {
      await holdTheRow();
      const handle = await p.startImport('racy', 'full');
      await until(async () => (await waitingOnTheRow()) === 1, "the import's begin waiting for the row");
      const pausing = pauseOperator(control(), 'racy', 'maintenance');
      await until(async () => (await waitingOnTheRow()) === 2, 'the pause waiting for the row');
      await letGo();
      expect((await pausing).signalled).toBe(handle.workflowId);
      await until(async () => (await handle.query(progressQuery)).status === 'paused', 'the import paused');
      await resumeOperator(control(), 'racy');
      expect((await handle.result()).status).toBe('completed');
    });
  });
});
