import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import type { TourRecord } from '../../tooling/simulator/operator-catalog.js';
import { waitFor } from '../helpers/wait.js';
import { importTourWorkflowId } from '../../src/constants.js';
import { ImportTour } from '../../src/workflows/import-tour.js';

/**
 * Misbehaving operators, through the simulator: transient errors and throttling are retried within
 * bounds; an operator that stays broken is paused by its circuit breaker while others carry on; bad
 * payloads are recorded as failures naming the tour and never overwrite what was imported before.
 */
const base = { tourCount: 10, imagesPerTour: { min: 0, max: 1 }, imageWidth: 200, imageHeight: 150 };
const OPERATORS = [
  {
    id: 'flaky-a',
    dialect: 'A' as const,
    seed: 1,
    ...base,
    faults: {
      // 502, not 503: a dialect-A 503 is retried after its RateLimit-Reset (up to the 5-minute cap),
      // reported to the lead as a product issue in src/operators/http.ts.
      // (A and B import from their listing: no per-tour call, so the faults hit the listing's pages.)
      list: [
        { type: 'error' as const, status: 502 as const, times: 2 },
        { type: 'error' as const, status: 500 as const, everyNth: 3, times: 3 },
        { type: 'rate-limit' as const, retryAfterSeconds: 1, after: 4, times: 2 },
      ],
    },
  },
  {
    id: 'flaky-b',
    dialect: 'B' as const,
    seed: 2,
    ...base,
    faults: {
      // Dialect B throttles with a bare 429: no Retry-After, no reset header; plain backoff applies.
      list: [
        { type: 'rate-limit' as const, retryAfterSeconds: null, times: 2 },
        { type: 'error' as const, status: 502 as const, everyNth: 2, times: 4 },
      ],
    },
  },
  { id: 'breaks', dialect: 'C' as const, seed: 3, ...base, tourCount: 30 },
  { id: 'steady', dialect: 'C' as const, seed: 4, ...base },
  { id: 'bad-json', dialect: 'A' as const, seed: 5, ...base },
  { id: 'bad-xml', dialect: 'C' as const, seed: 6, ...base },
];

describe('misbehaving operators', () => {
  let p: Pipeline;
  beforeAll(async () => void (p = await startPipeline('operators', OPERATORS)));
  afterAll(async () => p?.close());

  const tours = async (op: string) =>
    (
      await p.db.pool.query(
        `SELECT external_id, status, title, content_hash, fetched_at, updated_at FROM tours
          WHERE operator_id = $1 ORDER BY external_id`,
        [op],
      )
    ).rows;
  const live = (op: string) => p.sim.operator(op).activeCodes().map(String).sort();

  it('5xx bursts and 429 with and without Retry-After on the listing: retried with backoff, import completes', async () => {
    const started = Date.now();
    const retry = { initialIntervalMs: 100, maximumAttempts: 6 };
    // Pages of 2 tours: 6 pages each, so the bursts land among them.
    const [a, b] = await Promise.all(
      ['flaky-a', 'flaky-b'].map(async (op) =>
        (await p.startImport(op, 'full', { retry, pageSize: 2 })).result(),
      ),
    );
    for (const [op, r] of [
      ['flaky-a', a],
      ['flaky-b', b],
    ] as const) {
      expect(r, op).toMatchObject({ status: 'completed', progress: { done: 10, failed: 0 } });
      expect((await tours(op)).map((t) => t.external_id)).toEqual(live(op));
    }
    // Every fault fired and was retried: more requests than pages (6 each), and no per-tour call.
    expect(p.sim.operator('flaky-a').state().requests.list).toBeGreaterThanOrEqual(6 + 2 + 2);
    expect(p.sim.operator('flaky-b').state().requests.list).toBeGreaterThanOrEqual(6 + 2 + 2);
    expect(
      p.sim.operator('flaky-a').state().requests.detail + p.sim.operator('flaky-b').state().requests.detail,
    ).toBe(0);
    // Bounded: the 1 s Retry-After was honoured, nothing waited anywhere near the 1-minute cap.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('an operator failing every detail request mid-import is paused by its circuit breaker; another operator completes', async () => {
    const broken = p.sim.operator('breaks');
    broken.addFaults('detail', [{ type: 'latency', ms: 150 }]);
    const breaker = { consecutiveFailures: 3, failureRatio: 0.9, overLast: 20 };
    const retry = { initialIntervalMs: 100, maximumAttempts: 2 };
    const brokenRun = await p.startImport('breaks', 'full', { window: 2, breaker, retry });
    const steadyRun = await p.startImport('steady', 'full', { retry });
    // Let a few tours succeed, then break every detail request.
    await waitFor(async () => (await tours('breaks')).length >= 3, 30_000);
    broken.addFaults('detail', [{ type: 'error', status: 500 }]);

    const op = await waitFor(async () => {
      const { rows } = await p.db.pool.query(
        `SELECT paused, pause_reason, last_errors FROM operators WHERE id = 'breaks'`,
      );
      return rows[0].paused ? rows[0] : undefined;
    }, 60_000);
    expect(op.pause_reason).toMatch(/^circuit breaker: 3 tours failed in a row/);
    expect(JSON.stringify(op.last_errors)).toMatch(/OperatorHttpError/);
    const failures = await p.db.pool.query(
      `SELECT external_id, kind FROM tour_failures WHERE operator_id = 'breaks'`,
    );
    expect(failures.rows.length).toBeGreaterThanOrEqual(3);
    expect(failures.rows.every((f) => f.kind === 'OperatorHttpError')).toBe(true);
    expect((await brokenRun.query<{ paused: boolean; status: string }>('progress')).paused).toBe(true);
    // The paused import neither finishes nor retries the operator while paused.
    const detailWhilePaused = broken.state().requests.detail;

    const steady = await steadyRun.result();
    expect(steady).toMatchObject({ status: 'completed', progress: { done: 10, failed: 0 } });
    expect((await tours('steady')).map((t) => t.external_id)).toEqual(live('steady'));
    expect(broken.state().requests.detail).toBeLessThanOrEqual(detailWhilePaused + 2);

    // Operator fixed, import resumed: it finishes the rest.
    broken.clearFaults();
    await brokenRun.signal('resume');
    const done = await brokenRun.result();
    expect(done.status).toBe('completed');
    const { rows } = await p.db.pool.query(`SELECT paused, pause_reason FROM operators WHERE id = 'breaks'`);
    expect(rows[0]).toEqual({ paused: false, pause_reason: null });
  });

  it('malformed JSON (dialect A, pushed) and XML (dialect C) detail bodies: failures naming each tour, nothing imported before overwritten', async () => {
    const retry = { initialIntervalMs: 100, maximumAttempts: 3 };
    const noBreaker = { consecutiveFailures: 1000, failureRatio: 1, overLast: 1000 };
    for (const op of ['bad-json', 'bad-xml']) {
      expect((await (await p.startImport(op, 'full', { retry })).result()).status).toBe('completed');
    }
    const before = { json: await tours('bad-json'), xml: await tours('bad-xml') };
    expect(before.json).toHaveLength(10);

    for (const op of ['bad-json', 'bad-xml']) p.sim.operator(op).addFaults('detail', [{ type: 'malformed' }]);
    // Dialect A imports from its feed; its per-product endpoint serves pushes, one per tour here.
    const pushes = await Promise.all(
      live('bad-json').map((externalId) =>
        p.env.client.workflow
          .execute(ImportTour, {
            taskQueue: p.taskQueue,
            workflowId: importTourWorkflowId('bad-json', externalId),
            args: [
              { operatorId: 'bad-json', externalId, force: true, retry, imageTaskQueue: p.imageTaskQueue },
            ],
          })
          .then(
            () => 'imported',
            () => 'failed',
          ),
      ),
    );
    expect(pushes).toEqual(live('bad-json').map(() => 'failed'));
    const result = await (
      await p.startImport('bad-xml', 'full', { retry, force: true, breaker: noBreaker })
    ).result();
    expect(result).toMatchObject({ status: 'completed', progress: { failed: 10, done: 0 } });
    for (const op of ['bad-json', 'bad-xml']) {
      const { rows } = await p.db.pool.query(
        `SELECT external_id, kind, message FROM tour_failures WHERE operator_id = $1 ORDER BY external_id`,
        [op],
      );
      expect(rows.map((r) => r.external_id)).toEqual(live(op));
      for (const r of rows) {
        expect(r.kind).toBe('OperatorPayloadInvalid');
        expect(r.message).toMatch(op === 'bad-json' ? /malformed JSON/ : /XML|xml|parse|malformed/i);
      }
      // Not retried: a malformed body is permanent (one request per tour, plus C's clean import's one).
      expect(p.sim.operator(op).state().requests.detail).toBe(op === 'bad-json' ? 10 : 20);
      p.sim.operator(op).clearFaults();
    }
    expect(await tours('bad-json')).toEqual(before.json);
    expect(await tours('bad-xml')).toEqual(before.xml);
  });

  it('a schema violation in a newer version: failure names the tour and field, the older stored version stays', async () => {
    const sim = p.sim.operator('bad-json');
    const [victim] = sim.activeCodes();
    const beforeRow = (await tours('bad-json')).find((t) => t.external_id === victim);
    sim.change(victim);
    // The operator now sends this tour with an empty title.
    const original = sim.catalog.tour.bind(sim.catalog);
    sim.catalog.tour = (index: number): TourRecord => {
      const t = original(index);
      return t.code === victim ? { ...t, title: '   ' } : t;
    };
    try {
      const r = await (await p.startImport('bad-json', 'delta')).result();
      expect(r.status).toBe('completed');
      expect(r.progress.failed).toBe(1);
    } finally {
      sim.catalog.tour = original;
    }
    const { rows } = await p.db.pool.query(
      `SELECT kind, message FROM tour_failures WHERE operator_id = 'bad-json' AND external_id = $1 AND kind = 'TourValidationFailed'`,
      [victim],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].message).toMatch(new RegExp(`tour "${victim}" of operator "bad-json": field "title"`));
    expect((await tours('bad-json')).find((t) => t.external_id === victim)).toEqual(beforeRow);
  });
});
