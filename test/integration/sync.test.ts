import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeOperator } from '../../src/operations/pause.js';
import { operatorStatus } from '../../src/cli/commands/status.js';
import { importTourWorkflowId } from '../../src/constants.js';
import { IMAGE_RETRY_IMPORTS } from '../../src/db/tours.js';
import { ImportTour } from '../../src/workflows/import-tour.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * The sync's promises (docs/architecture.md, "Sync semantics"), on real Temporal, PostgreSQL, simulator and sharp:
 * nothing lost, nothing removed without evidence, bulk removals wait for a person, nothing wedges.
 */
const small = { imageWidth: 320, imageHeight: 213 };
const OPERATORS = [
  // Operators as OPERATOR_DIALECTS.md allows them: the listing only, no per-product endpoint.
  { id: 'feed-a', dialect: 'A' as const, seed: 41, tourCount: 20, detailEndpoint: false, ...small },
  { id: 'list-b', dialect: 'B' as const, seed: 42, tourCount: 20, detailEndpoint: false, ...small },
  { id: 'cat-c', dialect: 'C' as const, seed: 43, tourCount: 10, imagesPerTour: { min: 0, max: 0 } },
  { id: 'guard-a', dialect: 'A' as const, seed: 44, tourCount: 20, imagesPerTour: { min: 0, max: 0 } },
  {
    id: 'data-a',
    dialect: 'A' as const,
    seed: 45,
    tourCount: 12,
    imagesPerTour: { min: 1, max: 1 },
    ...small,
  },
];

describe('sync semantics', () => {
  let p: Pipeline;
  beforeAll(async () => void (p = await startPipeline('sync', OPERATORS)));
  afterAll(async () => p?.close());

  const sim = (op: string) => p.sim.operator(op);
  const liveCodes = (op: string) => sim(op).activeCodes().map(String).sort();
  const query = async (sql: string, params: unknown[]) => (await p.db.pool.query(sql, params)).rows;
  const activeTours = async (op: string) =>
    (
      await query(`SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`, [
        op,
      ])
    ).map((r) => r.external_id as string);
  const tour = async (op: string, id: string) =>
    (
      await query(
        `SELECT status, title, description, image_retries FROM tours WHERE operator_id = $1 AND external_id = $2`,
        [op, id],
      )
    )[0];
  const failureKinds = async (op: string) =>
    (await query(`SELECT external_id, kind FROM tour_failures WHERE operator_id = $1 ORDER BY id`, [op])).map(
      (r) => `${r.external_id}: ${r.kind}`,
    );
  const deltaMark = async (op: string) =>
    (await query(`SELECT delta_mark FROM operators WHERE id = $1`, [op]))[0].delta_mark as string | null;
  const runImport = async (op: string, mode: 'full' | 'delta', settings = {}) =>
    (await p.startImport(op, mode, settings)).result();
  const push = (op: string, externalId: string) =>
    p.env.client.workflow.execute(ImportTour, {
      taskQueue: p.taskQueue,
      workflowId: importTourWorkflowId(op, externalId),
      args: [{ operatorId: op, externalId, imageTaskQueue: p.imageTaskQueue }],
    });
  const control = () => ({ pool: p.db.pool, client: p.env.client });

  /** What the tour's ImportTour ran: its activities, and its local activities (markers). */
  const steps = async (op: string, code: string) => {
    const history = await p.env.client.workflow.getHandle(importTourWorkflowId(op, code)).fetchHistory();
    return (history.events ?? []).flatMap((e) => [
      ...(e.activityTaskScheduledEventAttributes
        ? [`activity ${e.activityTaskScheduledEventAttributes.activityType?.name}`]
        : []),
      ...(e.markerRecordedEventAttributes ? [`marker ${e.markerRecordedEventAttributes.markerName}`] : []),
    ]);
  };

  describe('tours come from the listing where it carries them', () => {
    it.each(['feed-a', 'list-b'])(
      '%s, without a per-product endpoint, imports every tour in full without a per-tour call and removes none',
      async (op) => {
        const result = await runImport(op, 'full');
        expect(result.status).toBe('completed');
        expect(result.progress).toMatchObject({ done: 20, removed: 0, failed: 0 });
        expect(await activeTours(op)).toEqual(liveCodes(op));
        expect(sim(op).state().requests.detail).toBe(0);
        const images = await query(
          `SELECT ta.status FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id = $1`,
          [op],
        );
        expect(images.length).toBeGreaterThan(0);
        expect(images.every((r) => r.status === 'ready')).toBe(true);
      },
    );

    it("a tour's images and its persist are one activity task", async () => {
      // The staged record (fetchTour, local), then images and persist in one activity; a tour whose
      // photos an earlier tour of the import already brought in has none to import: persisted locally.
      for (const op of ['feed-a', 'list-b']) {
        const shapes = new Set<string>();
        for (const code of sim(op).activeCodes().slice(0, 8)) shapes.add((await steps(op, code)).join(', '));
        expect([...shapes].sort()).toEqual([
          'marker core_local_activity, activity importTourImages',
          'marker core_local_activity, marker core_local_activity',
        ]);
      }
    });

    it.each(['feed-a', 'list-b'])('%s: a delta imports a changed tour from the listing', async (op) => {
      const code = sim(op).activeCodes()[3];
      sim(op).change(code);
      const result = await runImport(op, 'delta');
      expect(result.progress).toMatchObject({ done: 1, failed: 0, removed: 0 });
      expect((await tour(op, code)).title).toMatch(/\(rev 1\)$/);
      expect(sim(op).state().requests.detail).toBe(0);
    });

    it.each(['feed-a', 'list-b'])(
      '%s: a push imports the tour from a delta listing; a pushed tour the listing lacks fails as TourNotFound and removes nothing',
      async (op) => {
        const code = sim(op).activeCodes()[5];
        sim(op).change(code);
        expect(await push(op, code)).toMatchObject({ outcome: 'imported' });
        expect((await tour(op, code)).title).toMatch(/\(rev 1\)$/);

        const failure = await push(op, op === 'feed-a' ? 'VP0FFFFFFF' : 'P0FFFFFFF').catch((e) => e);
        expect(failureType(failure)).toBe('TourNotFound');
        expect(await activeTours(op)).toEqual(liveCodes(op));
      },
    );
  });

  describe('"removed" only on evidence', () => {
    it('a tour listed as active whose detail answers 404 is OperatorInconsistent: recorded, never removed', async () => {
      expect((await runImport('cat-c', 'full')).progress).toMatchObject({ done: 10, failed: 0 });
      // A tour with no image to import: fetched, then persisted, both local, in one workflow task.
      expect(await steps('cat-c', sim('cat-c').activeCodes()[0])).toEqual([
        'marker core_local_activity',
        'marker core_local_activity',
      ]);
      sim('cat-c').addFaults('detail', [{ type: 'not-found', times: 1 }]);
      const result = await runImport('cat-c', 'full', { force: true });
      sim('cat-c').clearFaults();
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ failed: 1, removed: 0 });
      expect(await failureKinds('cat-c')).toEqual([expect.stringMatching(/: OperatorInconsistent$/)]);
      expect(await activeTours('cat-c')).toEqual(liveCodes('cat-c'));
    });

    it('a push answered 404 is never a removal', async () => {
      const code = sim('cat-c').activeCodes()[2];
      sim('cat-c').addFaults('detail', [{ type: 'not-found', times: 1 }]);
      const failure = await push('cat-c', code).catch((e) => e);
      sim('cat-c').clearFaults();
      expect(failureType(failure)).toBe('TourNotFound');
      expect((await tour('cat-c', code)).status).toBe('active');
    });
  });

  describe('the removal guard', () => {
    const heldFor = async (op: string) =>
      (await operatorStatus({ pool: p.db.pool, client: p.env.client }, op)).operators[0].heldRemovals;

    it('holds an import that would remove more than 10 % (and at least 5) for a person, who applies them', async () => {
      await runImport('guard-a', 'full');
      const codes = sim('guard-a').activeCodes();
      const gone = codes.slice(0, 5);
      // Removals and changes interleaved in the feed, listed 2 at a time, and the import continuing
      // as new after every 2 tours: the guard counts over the whole import.
      gone.forEach((code, i) => {
        sim('guard-a').remove(code);
        sim('guard-a').change(codes[10 + i]);
      });

      const result = await runImport('guard-a', 'delta', { pageSize: 2, toursPerRun: 2 });
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ done: 5, removed: 0, heldRemovals: 5 });
      expect(result.message).toMatch(/5 removals held/);
      expect(await activeTours('guard-a')).toHaveLength(20); // nothing removed yet
      const op = (await operatorStatus(control(), 'guard-a')).operators[0];
      expect(op.state).toBe('paused');
      expect(op.pauseReason).toMatch(/would remove 5 of 20 active tours/);
      expect(op.heldRemovals).toMatchObject({ count: 5, discardIsFinal: true });
      expect(op.heldRemovals?.tours.map((t) => t.externalId).sort()).toEqual([...gone].sort());
      expect((await runImport('guard-a', 'delta')).status).toBe('skipped'); // paused until a person decides

      const resumed = await resumeOperator(control(), 'guard-a', { applyRemovals: true });
      expect(resumed.removals).toEqual({ applied: 5, discarded: 0 });
      expect(await activeTours('guard-a')).toEqual(liveCodes('guard-a'));
      expect(await heldFor('guard-a')).toBeNull();
    });

    it('a person may discard held removals instead: the tours stay, and the cursor has moved on', async () => {
      const gone = sim('guard-a').activeCodes().slice(0, 5);
      for (const code of gone) sim('guard-a').remove(code);
      expect((await runImport('guard-a', 'delta')).progress).toMatchObject({ heldRemovals: 5 });

      const resumed = await resumeOperator(control(), 'guard-a');
      expect(resumed.removals).toEqual({ applied: 0, discarded: 5 });
      expect(await activeTours('guard-a')).toHaveLength(15);
      expect(await heldFor('guard-a')).toBeNull();
      // The feed does not send those tombstones again: discarding was final, as status said.
      expect((await runImport('guard-a', 'delta')).progress).toMatchObject({ listed: 0, removed: 0 });
    });

    it('a few removals are applied by the import itself', async () => {
      const [gone] = sim('guard-a').activeCodes().slice(-1);
      sim('guard-a').remove(gone);
      const result = await runImport('guard-a', 'delta');
      expect(result.progress).toMatchObject({ removed: 1 });
      expect(result.progress.heldRemovals).toBeUndefined();
      expect((await tour('guard-a', gone)).status).toBe('removed');
    });

    it('tours missing from a full listing count too, and are found again after a discard', async () => {
      for (const code of sim('list-b').activeCodes().slice(0, 6)) sim('list-b').remove(code);
      const result = await runImport('list-b', 'full');
      expect(result.progress).toMatchObject({ removed: 0, heldRemovals: 6 });
      expect(await heldFor('list-b')).toMatchObject({ count: 6, discardIsFinal: false });
      await resumeOperator(control(), 'list-b', { applyRemovals: true });
      expect(await activeTours('list-b')).toEqual(liveCodes('list-b'));
    });
  });

  describe('nothing wedges an operator', () => {
    it('a price no column can store and a NUL in a description end as a recorded failure and a stripped import; the mark moves on', async () => {
      await runImport('data-a', 'full');
      const [pricey, nul] = sim('data-a').activeCodes();
      sim('data-a').change(pricey, { price: 1e12 });
      sim('data-a').change(nul, { description: 'Sunrise\u0000 walk' });
      const markBefore = await deltaMark('data-a');

      const result = await runImport('data-a', 'delta');
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ done: 1, failed: 1 });
      expect(await failureKinds('data-a')).toEqual([`${pricey}: TourValidationFailed`]);
      expect((await tour('data-a', nul)).description).toBe('Sunrise walk');
      expect(await deltaMark('data-a')).not.toBe(markBefore);
      expect((await runImport('data-a', 'delta')).progress).toMatchObject({ listed: 0 });
    });

    it('a tour whose staged record is deleted before it is persisted is a recorded failure; the import completes and the mark moves on', async () => {
      const code = sim('data-a').activeCodes()[4];
      sim('data-a').change(code);
      sim('data-a').addFaults('image', [{ type: 'latency', ms: 3_000 }]);
      const markBefore = await deltaMark('data-a');
      const imagesBefore = sim('data-a').state().requests.image;
      const handle = await p.startImport('data-a', 'delta');
      // Its images are being downloaded (3 s): the tour was staged and read, and is not yet persisted.
      await until(async () => sim('data-a').state().requests.image > imagesBefore);
      await p.db.pool.query(`DELETE FROM staged_tours WHERE operator_id = 'data-a' AND external_id = $1`, [
        code,
      ]);
      const result = await handle.result();
      sim('data-a').clearFaults();
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ failed: 1 });
      expect(await failureKinds('data-a')).toContain(`${code}: StagedTourMissing`);
      expect(await deltaMark('data-a')).not.toBe(markBefore);
    });

    it('an image that failed for a reason a retry may fix is tried again by the next imports, a bounded number of times', async () => {
      const code = sim('data-a').activeCodes()[6];
      sim('data-a').change(code);
      sim('data-a').addFaults('image', [{ type: 'error', status: 503 }]);
      const once = { retry: { initialIntervalMs: 100, maximumAttempts: 1 } };
      expect((await runImport('data-a', 'delta', once)).progress).toMatchObject({ done: 1 });
      const imageStatus = async () =>
        (
          await query(
            `SELECT ta.status, ta.failure_retryable FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
              WHERE t.operator_id = 'data-a' AND t.external_id = $1`,
            [code],
          )
        )[0];
      expect(await imageStatus()).toEqual({ status: 'failed', failure_retryable: true });

      // The tour did not change, yet each delta tries its image again, until the bound.
      for (let i = 0; i < IMAGE_RETRY_IMPORTS; i++)
        expect((await runImport('data-a', 'delta', once)).progress).toMatchObject({ done: 1 });
      expect((await runImport('data-a', 'delta', once)).progress).toMatchObject({ done: 0 });
      expect(await imageStatus()).toEqual({ status: 'failed', failure_retryable: true });

      // Once the tour changes, its images are tried afresh; with the host back, they are stored.
      sim('data-a').clearFaults();
      sim('data-a').change(code);
      expect((await runImport('data-a', 'delta')).progress).toMatchObject({ done: 1 });
      expect(await imageStatus()).toMatchObject({ status: 'ready' });
      expect((await tour('data-a', code)).image_retries).toBe(0);
    });
  });
});

/** The searchable type of the innermost application failure behind a workflow's failure. */
function failureType(err: unknown): string | undefined {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let current: unknown = err;
  let type: string | undefined;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure) type = current.type ?? undefined;
    current =
      current instanceof TemporalFailure || current instanceof WorkflowFailedError
        ? current.cause
        : undefined;
  }
  return type;
}
