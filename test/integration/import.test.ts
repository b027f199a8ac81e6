import { existsSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importTourWorkflowId } from '../../src/constants.js';
import { ImportTour } from '../../src/workflows/import-tour.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/** Real Temporal, PostgreSQL, simulator, sharp and blob folder: the whole import of each dialect. */
const OPERATORS = [
  {
    id: 'alpha',
    dialect: 'A' as const,
    seed: 11,
    tourCount: 12,
    imagesPerTour: { min: 1, max: 3 },
    imageWidth: 800,
    imageHeight: 533,
  },
  {
    id: 'bravo',
    dialect: 'B' as const,
    seed: 22,
    tourCount: 12,
    imagesPerTour: { min: 0, max: 3 },
    imageWidth: 800,
    imageHeight: 533,
  },
  {
    id: 'charlie',
    dialect: 'C' as const,
    seed: 33,
    tourCount: 10,
    imagesPerTour: { min: 1, max: 2 },
    imageWidth: 800,
    imageHeight: 533,
  },
];

describe('full and delta imports against the simulator', () => {
  let p: Pipeline;
  beforeAll(async () => void (p = await startPipeline('import', OPERATORS)));
  afterAll(async () => p?.close());

  const activeTours = async (op: string) =>
    (
      await p.db.pool.query(
        `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`,
        [op],
      )
    ).rows.map((r) => r.external_id);
  const liveCodes = (op: string) => p.sim.operator(op).activeCodes().map(String).sort();

  it.each(OPERATORS.map((o) => o.id))(
    'imports every tour of operator %s with its images and all variants',
    async (op) => {
      const result = await (await p.startImport(op, 'full')).result();
      expect(result.status).toBe('completed');
      expect(await activeTours(op)).toEqual(liveCodes(op));
      expect(result.progress.done).toBe(liveCodes(op).length);

      const assets = await p.db.pool.query(
        `SELECT ta.status, ta.sha256, t.title FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id = $1`,
        [op],
      );
      expect(assets.rows.length).toBeGreaterThan(0);
      expect(assets.rows.every((r) => r.status === 'ready')).toBe(true);
      const variants = await p.db.pool.query(
        `SELECT v.storage_key, v.actual_width, v.format FROM asset_variants v WHERE v.sha256 = ANY($1::text[])`,
        [[...new Set(assets.rows.map((r) => r.sha256))]],
      );
      const distinct = new Set(assets.rows.map((r) => r.sha256)).size;
      expect(variants.rows.length).toBe(distinct * 6); // 3 widths x 2 formats
      for (const v of variants.rows) expect(existsSync(path.join(p.blobDir, v.storage_key))).toBe(true);
      expect(
        variants.rows
          .filter((v) => v.format === 'webp')
          .map((v) => v.actual_width)
          .sort(),
      ).toContain(200);

      const run = await p.db.pool.query(`SELECT status, counts FROM import_runs WHERE operator_id = $1`, [
        op,
      ]);
      expect(run.rows).toEqual([
        { status: 'completed', counts: expect.objectContaining({ done: liveCodes(op).length }) },
      ]);
    },
  );

  it('a second full import of an unchanged catalog imports nothing again', async () => {
    const imagesBefore = p.sim.operator('alpha').state().requests.image;
    const result = await (await p.startImport('alpha', 'full')).result();
    expect(result.progress).toMatchObject({ done: 0, unchanged: liveCodes('alpha').length, failed: 0 });
    expect(p.sim.operator('alpha').state().requests.image).toBe(imagesBefore);
  });

  it('a delta import after mutations imports only what changed, from the feed, and marks removals', async () => {
    const sim = p.sim.operator('alpha');
    const [changed, removed, untouched] = sim.activeCodes();
    sim.change(changed);
    sim.remove(removed);
    const before = sim.state().requests;
    const result = await (await p.startImport('alpha', 'delta')).result();
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 1, removed: 1, failed: 0 });
    const after = sim.state().requests;
    expect(after.detail - before.detail).toBe(0); // the feed carries the changed tour whole
    expect(after.image - before.image).toBeLessThanOrEqual(3); // conditional GETs of its images only
    const rows = await p.db.pool.query(
      `SELECT external_id, status, title FROM tours WHERE operator_id = 'alpha' AND external_id = ANY($1::text[])`,
      [[String(changed), String(removed), String(untouched)]],
    );
    const byId = Object.fromEntries(rows.rows.map((r) => [r.external_id, r]));
    expect(byId[String(removed)].status).toBe('removed');
    expect(byId[String(changed)].title).toMatch(/\(rev 1\)$/);
    expect(byId[String(untouched)].status).toBe('active');
  });

  it('a full import of dialect B marks tours that vanished from the listing as removed', async () => {
    const sim = p.sim.operator('bravo');
    const gone = sim.activeCodes()[0];
    sim.remove(gone);
    const result = await (await p.startImport('bravo', 'full')).result();
    expect(result.status).toBe('completed');
    const row = await p.db.pool.query(
      `SELECT status FROM tours WHERE operator_id = 'bravo' AND external_id = $1`,
      [String(gone)],
    );
    expect(row.rows[0].status).toBe('removed');
    expect(await activeTours('bravo')).toEqual(liveCodes('bravo'));
  });

  it('a second import of the same operator started meanwhile ends as skipped', async () => {
    p.sim.operator('charlie').addFaults('detail', [{ type: 'latency', ms: 300 }]);
    const first = await p.startImport('charlie', 'full', { force: true });
    await until(async () => {
      const { rows } = await p.db.pool.query(
        `SELECT running_workflow_id FROM operators WHERE id = 'charlie'`,
      );
      return rows[0].running_workflow_id === first.workflowId;
    });
    const second = await (await p.startImport('charlie', 'full')).result();
    expect(second.status).toBe('skipped');
    expect(second.message).toMatch(new RegExp(`skipped: import ${first.workflowId} already running`));
    expect((await first.result()).status).toBe('completed');
    p.sim.operator('charlie').clearFaults();
  });

  it('a pushed single-tour import that fails records its failure with a searchable type', async () => {
    const code = p.sim.operator('charlie').activeCodes()[1];
    p.sim.operator('charlie').addFaults('detail', [{ type: 'malformed' }]);
    const failure = await p.env.client.workflow
      .execute(ImportTour, {
        taskQueue: p.taskQueue,
        workflowId: importTourWorkflowId('charlie', code),
        args: [{ operatorId: 'charlie', externalId: code, imageTaskQueue: p.imageTaskQueue, force: true }],
      })
      .catch((err) => err);
    p.sim.operator('charlie').clearFaults();
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const rows = await p.db.pool.query(
      `SELECT kind, message FROM tour_failures WHERE operator_id = 'charlie' AND external_id = $1`,
      [code],
    );
    expect(rows.rows).toEqual([
      { kind: 'OperatorPayloadInvalid', message: expect.stringContaining('show.xml') },
    ]);
    const tour = await p.db.pool.query(
      `SELECT status, title FROM tours WHERE operator_id = 'charlie' AND external_id = $1`,
      [code],
    );
    expect(tour.rows[0]).toMatchObject({ status: 'active', title: expect.any(String) }); // imported data kept
    const run = await p.db.pool.query(
      `SELECT mode, status, message, counts FROM import_runs WHERE workflow_id = $1`,
      [importTourWorkflowId('charlie', code)],
    );
    expect(run.rows).toEqual([
      {
        mode: 'tour',
        status: 'failed',
        message: expect.stringMatching(/^OperatorPayloadInvalid: /),
        counts: expect.objectContaining({ listed: 1, failed: 1, done: 0 }),
      },
    ]);
  });
});
