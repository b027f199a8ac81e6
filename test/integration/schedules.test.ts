import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySchedules, listSchedules, triggerOperatorSchedule } from '../../src/schedules/apply.js';
import { scheduleId } from '../../src/schedules/spec.js';
import type { OperatorConfig } from '../../src/operators/registry.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

const tour = { imagesPerTour: { min: 0, max: 1 }, imageWidth: 320, imageHeight: 200 };
const OPERATORS = [
  { id: 'sch-alpha', dialect: 'A' as const, seed: 1, tourCount: 10, ...tour },
  { id: 'sch-charlie', dialect: 'C' as const, seed: 2, tourCount: 10, ...tour },
];
const HOUR = 3_600_000;

/** `schedules apply` against the real Temporal server, and a triggered schedule running a real import. */
describe('operator schedules', () => {
  let p: Pipeline;
  let client: Client;
  let configs: OperatorConfig[];
  beforeAll(async () => {
    p = await startPipeline('schedules', OPERATORS);
    client = p.env.client;
    const byId = Object.fromEntries(p.configs.map((c) => [c.id, c]));
    configs = [
      { ...byId['sch-alpha'], schedule: { everyMs: HOUR, jitterMs: 60_000, fullEvery: 24 } },
      { ...byId['sch-charlie'], schedule: { everyMs: undefined, cron: '0 */6 * * *', jitterMs: 0 } },
    ];
  });
  afterAll(async () => {
    for (const s of client ? await listSchedules(client) : [])
      await client.schedule.getHandle(s.scheduleId).delete();
    await p?.close();
  });

  it('creates one schedule per operator (plus a full one where configured) and removes stale ones', async () => {
    const stale = scheduleId('gone-operator');
    await client.schedule.create({
      scheduleId: stale,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'ImportOperator', taskQueue: p.taskQueue, args: [] },
    });
    // Listing is eventually consistent: apply can only delete what it can list.
    await untilWithin30s(async () => (await listSchedules(client)).some((s) => s.scheduleId === stale));

    const result = await applySchedules(client, configs, { taskQueue: p.taskQueue });
    expect(result.created.sort()).toEqual(
      [scheduleId('sch-alpha'), scheduleId('sch-alpha', 'full'), scheduleId('sch-charlie')].sort(),
    );
    expect(result.deleted).toEqual([stale]);

    const alpha = await client.schedule.getHandle(scheduleId('sch-alpha')).describe();
    expect(alpha.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(alpha.spec.intervals).toMatchObject([{ every: HOUR }]);
    expect(alpha.spec.jitter).toBe(60_000);
    expect(alpha.action).toMatchObject({
      workflowType: 'ImportOperator',
      taskQueue: p.taskQueue,
      workflowId: 'import:sch-alpha',
      args: [{ operatorId: 'sch-alpha', mode: 'delta' }],
      priority: { fairnessKey: 'sch-alpha' },
    });
    const full = await client.schedule.getHandle(scheduleId('sch-alpha', 'full')).describe();
    expect(full.spec.intervals).toEqual([{ every: 24 * HOUR, offset: HOUR / 2 }]);
    expect(full.action).toMatchObject({ args: [{ operatorId: 'sch-alpha', mode: 'full' }] });
    const charlie = await client.schedule.getHandle(scheduleId('sch-charlie')).describe();
    expect(charlie.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(charlie.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 0, end: 23, step: 6 }] });
  });

  it('applying again updates in place, keeps a paused schedule paused and drops a removed full schedule', async () => {
    await client.schedule.getHandle(scheduleId('sch-charlie')).pause('by hand');
    const alphaWithoutFull = { ...configs[0], schedule: { everyMs: 2 * HOUR, jitterMs: 0 } };
    await untilWithin30s(async () =>
      (await listSchedules(client)).some((s) => s.scheduleId === scheduleId('sch-alpha', 'full')),
    );
    const result = await applySchedules(client, [alphaWithoutFull, configs[1]], { taskQueue: p.taskQueue });
    expect(result.created).toEqual([]);
    expect(result.updated.sort()).toEqual([scheduleId('sch-alpha'), scheduleId('sch-charlie')]);
    expect(result.deleted).toEqual([scheduleId('sch-alpha', 'full')]);
    const charlie = await client.schedule.getHandle(scheduleId('sch-charlie')).describe();
    expect(charlie.state).toMatchObject({ paused: true, note: 'by hand' });
    const alpha = await client.schedule.getHandle(scheduleId('sch-alpha')).describe();
    expect(alpha.spec.intervals).toMatchObject([{ every: 2 * HOUR }]);
  });

  it('a triggered schedule runs a real delta import of its operator', async () => {
    await applySchedules(client, configs, { taskQueue: p.taskQueue, imageTaskQueue: p.imageTaskQueue });
    expect(await triggerOperatorSchedule(client, 'sch-alpha')).toBe(true);
    let workflowId = '';
    await untilWithin30s(async () => {
      const d = await client.schedule.getHandle(scheduleId('sch-alpha')).describe();
      workflowId = d.info.recentActions[0]?.action.workflow.workflowId ?? '';
      return workflowId !== '';
    });
    expect(workflowId).toMatch(/^import:sch-alpha-/);
    const result = await client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ status: 'completed', progress: { listed: 10, done: 10 } });
    const run = await client.workflow.getHandle(workflowId).describe();
    expect(run.priority).toMatchObject({ fairnessKey: 'sch-alpha' });
    const { rows } = await p.db.pool.query(
      `SELECT mode, status FROM import_runs WHERE operator_id = 'sch-alpha' AND workflow_id = $1`,
      [workflowId],
    );
    expect(rows).toEqual([{ mode: 'delta', status: 'completed' }]);
    expect(await triggerOperatorSchedule(client, 'not-configured')).toBe(false);
  });
});

const untilWithin30s = (check: () => Promise<boolean>) => until(check, 'condition', 30_000);
