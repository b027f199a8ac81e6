import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorImportActivities } from '../../src/activities/operator-import/index.js';
import { upsertOperator } from '../../src/db/operators.js';
import { startRun } from '../../src/db/runs.js';
import { upsertTour } from '../../src/db/tours.js';
import type { Tour } from '../../src/domain/tour.js';
import type { ListPage, OperatorAdapter } from '../../src/operators/types.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTestDb, type TestDb } from '../helpers/db.js';

const tour = (title: string, sourceUpdatedAt: string): Tour => ({
  operatorId: 'op',
  externalId: 'T1',
  title,
  description: '',
  durationMinutes: 60,
  price: null,
  location: null,
  images: [],
  sourceUpdatedAt,
});

/** Operators send things in the wrong order or twice; what is stored must stay the newest, once. */
describe('bad input from operators', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('badinput');
    await upsertOperator(db.pool, { id: 'op', name: 'op', dialect: 'A', baseUrl: 'http://x', settings: {} });
  });
  afterAll(async () => db?.drop());

  it('an older version arriving after a newer one does not overwrite it', async () => {
    const now = new Date();
    expect(await upsertTour(db.pool, tour('new', '2026-05-02T00:00:00Z'), 'h2', now)).toBeDefined();
    // Fetched later, but the operator's own mark says it is older: the stored row wins.
    expect(
      await upsertTour(db.pool, tour('old', '2026-05-01T00:00:00Z'), 'h1', new Date(now.getTime() + 1000)),
    ).toBeUndefined();
    const { rows } = await db.pool.query(`SELECT title, content_hash FROM tours WHERE external_id = 'T1'`);
    expect(rows).toEqual([{ title: 'new', content_hash: 'h2' }]);
  });

  it('a page that lists one tour twice imports it once', async () => {
    const page: ListPage = {
      entries: [
        { kind: 'active', externalId: 'D1', sourceUpdatedAt: null },
        { kind: 'active', externalId: 'D1', sourceUpdatedAt: null },
        {
          kind: 'invalid',
          externalId: 'BAD',
          error: 'tour "BAD" of operator "op": field "title": Too small',
        },
      ],
    };
    const adapter = { listPage: async () => page } as unknown as OperatorAdapter;
    const catalog = createOperatorImportActivities({
      pool: db.pool,
      adapterFor: async () => adapter,
      isWorkflowRunning: async () => false,
    });
    const importRunId = await startRun(db.pool, {
      operatorId: 'op',
      mode: 'full',
      workflowId: 'w',
      runId: 'r',
    });
    const begun = await catalog.beginImport({
      operatorId: 'op',
      mode: 'full',
      workflowId: 'w2',
      runId: 'r2',
    });
    expect(begun.outcome).toBe('started');
    const settings = begun.outcome === 'started' ? begun.settings : (undefined as never);
    // listPage heartbeats, so it runs in an activity context.
    const result: Awaited<ReturnType<typeof catalog.listPage>> = await new MockActivityEnvironment().run(
      catalog.listPage,
      {
        operatorId: 'op',
        importRunId,
        settings,
      },
    );
    expect(result.toImport).toEqual(['D1']);
    expect(result.invalid).toBe(1);
    const failures = await db.pool.query(`SELECT kind, message FROM tour_failures WHERE external_id = 'BAD'`);
    expect(failures.rows).toEqual([
      { kind: 'TourValidationFailed', message: expect.stringContaining('field "title"') },
    ]);
  });

  it('a failure recorded by an activity that is retried after its insert committed is stored once', async () => {
    const catalog = createOperatorImportActivities({
      pool: db.pool,
      adapterFor: async () => ({}) as OperatorAdapter,
      isWorkflowRunning: async () => false,
    });
    const failure = { operatorId: 'op', externalId: 'RETRIED', kind: 'TourValidationFailed', message: 'm' };
    const execution = { activityId: '7', workflowExecution: { workflowId: 'tour:op:RETRIED', runId: 'r1' } };
    // Two attempts of one activity execution (the worker died before reporting the first), then the
    // same tour failing again in a later run of the workflow.
    for (const info of [
      execution,
      { ...execution, attempt: 2 },
      { ...execution, workflowExecution: { ...execution.workflowExecution, runId: 'r2' } },
    ])
      await new MockActivityEnvironment(info).run(catalog.recordTourFailure, failure);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM tour_failures WHERE external_id = 'RETRIED'`,
    );
    expect(rows[0].n).toBe(2);
  });
});
