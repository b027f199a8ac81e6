import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeOperator } from '../../src/operations/pause.js';
import { operatorStatus } from '../../src/cli/commands/status.js';
import { importTourWorkflowId } from '../../src/constants.js';
import { PUSHED_REMOVALS_LOCK } from '../../src/db/removals.js';
import { ImportTour } from '../../src/workflows/import-tour.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * Every removal goes through the removal guard, whatever brought its evidence (docs/architecture.md,
 * "Sync semantics"), and a push reaches an operator that serves no per-product endpoint although its
 * operators file says nothing of it. Real Temporal, PostgreSQL and simulator over HTTP.
 */
const none = { imagesPerTour: { min: 0, max: 0 } };
const OPERATORS = [
  // Viator-like: the per-product endpoint answers a removed product with its INACTIVE tombstone.
  { id: 'burst-a', dialect: 'A' as const, seed: 61, tourCount: 40, detailTombstones: true, ...none },
  {
    id: 'listed-a',
    dialect: 'A' as const,
    seed: 62,
    tourCount: 20,
    detailTombstones: true,
    imagesPerTour: { min: 1, max: 1 },
    imageWidth: 320,
    imageHeight: 213,
  },
  // Served as their spec allows, the listing alone, while the operators file says nothing of it.
  { id: 'quiet-b', dialect: 'B' as const, seed: 63, tourCount: 20, detailEndpoint: false, ...none },
  { id: 'quiet-a', dialect: 'A' as const, seed: 64, tourCount: 30, detailEndpoint: false, ...none },
];

describe('pushed removals and operators without a per-product endpoint', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('pushed-removals', OPERATORS, { detailEndpointUnsaid: ['quiet-b', 'quiet-a'] });
    for (const op of OPERATORS) expect((await runImport(op.id, 'full')).status).toBe('completed');
  });
  afterAll(async () => p?.close());

  const sim = (op: string) => p.sim.operator(op);
  const liveCodes = (op: string) => sim(op).activeCodes().map(String).sort();
  const control = () => ({ pool: p.db.pool, client: p.env.client });
  const runImport = async (op: string, mode: 'full' | 'delta', settings = {}) =>
    (await p.startImport(op, mode, settings)).result();
  const startPush = (op: string, externalId: string) =>
    p.env.client.workflow.start(ImportTour, {
      taskQueue: p.taskQueue,
      workflowId: importTourWorkflowId(op, externalId),
      args: [{ operatorId: op, externalId, imageTaskQueue: p.imageTaskQueue }],
    });
  const push = async (op: string, externalId: string) => (await startPush(op, externalId)).result();
  const activeTours = async (op: string) =>
    (
      await p.db.pool.query(
        `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`,
        [op],
      )
    ).rows.map((r) => r.external_id as string);
  const tour = async (op: string, id: string) =>
    (
      await p.db.pool.query(`SELECT status, title FROM tours WHERE operator_id = $1 AND external_id = $2`, [
        op,
        id,
      ])
    ).rows[0];
  const status = async (op: string) => (await operatorStatus(control(), op)).operators[0];

  describe('every removal goes through the removal guard', () => {
    it('a burst of pushed tombstones removes none: all are held and the operator is paused by the guard; one alone is removed at once', async () => {
      const gone = sim('burst-a').activeCodes().slice(0, 20);
      for (const code of gone) sim('burst-a').remove(code);

      // The pushes' decisions wait on the operator's lock, held here until several wait at once: they
      // interleave, and still none sees the others' removals missing from its count. (A connection of
      // its own: the workers' pool fills up with pushes waiting.)
      const holder = new pg.Client({ connectionString: p.db.url });
      await holder.connect();
      const lock = [PUSHED_REMOVALS_LOCK, 'burst-a'];
      let waitedTogether = false;
      let results: Promise<{ outcome: string }[]>;
      try {
        await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', lock);
        const handles = await Promise.all(gone.map((code) => startPush('burst-a', code)));
        let done = false;
        results = Promise.all(handles.map((h) => h.result())).finally(() => void (done = true));
        results.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
        // (Or every push is done: nothing made them take turns.)
        await until(async () => {
          waitedTogether = (await lockWaiters(holder, 'burst-a')) >= 5;
          return waitedTogether || done;
        }, 'five pushes waiting on the lock');
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', lock);
        await holder.end();
      }
      expect((await results).every((r) => r.outcome === 'removed' || r.outcome === 'unchanged')).toBe(true);

      expect(await activeTours('burst-a')).toHaveLength(40); // none removed
      const op = await status('burst-a');
      expect(op.state).toBe('paused');
      expect(op.pausedBy).toBe('removal-guard');
      expect(op.pauseReason).toMatch(/pushes within 1 h would remove 20 of 40 active tours/);
      expect(op.heldRemovals?.count).toBe(20);
      expect(op.heldRemovals?.tours.map((t) => t.externalId).sort()).toEqual([...gone].sort());
      expect(waitedTogether).toBe(true);

      const resumed = await resumeOperator(control(), 'burst-a', { applyRemovals: true });
      expect(resumed.removals).toEqual({ applied: 20, discarded: 0 });
      expect(await activeTours('burst-a')).toEqual(liveCodes('burst-a'));

      // A person has decided the burst: the next pushed tombstone starts a count of its own.
      const [one] = sim('burst-a').activeCodes();
      sim('burst-a').remove(one);
      expect(await push('burst-a', one)).toMatchObject({ outcome: 'removed' });
      expect((await tour('burst-a', one)).status).toBe('removed');
      expect((await status('burst-a')).state).not.toBe('paused');
    });

    it("a listed tour whose detail answers INACTIVE is noted with its import's removals, and held with them", async () => {
      const codes = sim('listed-a').activeCodes();
      const tombstoned = codes.slice(0, 4);
      for (const code of tombstoned) sim('listed-a').remove(code);
      const [slow, late] = [codes[10], codes[11]];
      sim('listed-a').change(slow);
      sim('listed-a').change(late);
      // One tour at a time: while the first one's image is slow, the second's staged record goes (as the
      // sweep would) and the operator removes it, so its import fetches its detail and meets a tombstone.
      sim('listed-a').addFaults('image', [{ type: 'latency', ms: 3_000, times: 1 }]);
      const imagesBefore = sim('listed-a').state().requests.image;
      const handle = await p.startImport('listed-a', 'delta', { window: 1 });
      await until(
        async () => sim('listed-a').state().requests.image > imagesBefore,
        'the slow image asked for',
      );
      await p.db.pool.query(`DELETE FROM staged_tours WHERE operator_id = 'listed-a' AND external_id = $1`, [
        late,
      ]);
      sim('listed-a').remove(late);
      const detailBefore = sim('listed-a').state().requests.detail;

      const result = await handle.result();
      sim('listed-a').clearFaults();
      expect(sim('listed-a').state().requests.detail).toBeGreaterThan(detailBefore);
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ removed: 0, heldRemovals: 5 });
      expect(await activeTours('listed-a')).toHaveLength(20);
      const op = await status('listed-a');
      expect(op.pausedBy).toBe('removal-guard');
      expect(op.pauseReason).toMatch(/the import would remove 5 of 20 active tours/);
      expect(op.heldRemovals?.tours.map((t) => t.externalId).sort()).toEqual([...tombstoned, late].sort());

      await resumeOperator(control(), 'listed-a', { applyRemovals: true });
      expect(await activeTours('listed-a')).toEqual(liveCodes('listed-a'));
    });
  });

  describe('pushes to an operator without a per-product endpoint', () => {
    it('B, whose spec has none, with nothing about it in the operators file: a push imports the change', async () => {
      const code = sim('quiet-b').activeCodes()[4];
      sim('quiet-b').change(code);
      expect(await push('quiet-b', code)).toMatchObject({ outcome: 'imported' });
      expect((await tour('quiet-b', code)).title).toMatch(/\(rev 1\)$/);
      expect(p.configs.find((c) => c.id === 'quiet-b')).toMatchObject({ detailEndpoint: false });
    });

    it('A, whose per-product endpoint answers 404 while the file says nothing: pushes are imported through the listing, a burst sharing few scans', async () => {
      const codes = sim('quiet-a').activeCodes();
      sim('quiet-a').change(codes[0]);
      expect(await push('quiet-a', codes[0])).toMatchObject({ outcome: 'imported' });
      expect((await tour('quiet-a', codes[0])).title).toMatch(/\(rev 1\)$/);

      const burst = codes.slice(1, 13);
      for (const code of burst) sim('quiet-a').change(code);
      // Each listing scan is slow, so the burst's pushes arrive while one is under way.
      sim('quiet-a').addFaults('list', [{ type: 'latency', ms: 1_500 }]);
      const listsBefore = sim('quiet-a').state().requests.list;
      const results = await Promise.all(burst.map((code) => push('quiet-a', code)));
      const lists = sim('quiet-a').state().requests.list - listsBefore;
      sim('quiet-a').clearFaults();
      expect(results.map((r) => r.outcome)).toEqual(burst.map(() => 'imported'));
      for (const code of burst) expect((await tour('quiet-a', code)).title).toMatch(/\(rev 1\)$/);
      // A scan is two requests (the changes, then the empty page that ends the feed): one scan per push
      // would be 24.
      expect(lists).toBeLessThan(burst.length);

      // A tour the listing does not have either is still not found, and nothing is removed.
      expect(failureType(await push('quiet-a', 'VP0FFFFFFF').catch((e) => e))).toBe('TourNotFound');
      expect(await activeTours('quiet-a')).toEqual(liveCodes('quiet-a'));
    });
  });

  /** Sessions waiting for the operator's pushed-removals lock (see PUSHED_REMOVALS_LOCK). */
  async function lockWaiters(db: pg.Client, operatorId: string): Promise<number> {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objsubid = 2
          AND objid = (hashtext($2)::bigint & 4294967295)::oid`,
      [PUSHED_REMOVALS_LOCK, operatorId],
    );
    return rows[0].n;
  }
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
