import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startImport,
  startTourImport,
  waitForImport,
  waitForTourImport,
} from '../../src/cli/commands/import.js';
import { listOperatorsCommand } from '../../src/cli/commands/operators.js';
import { pauseOperator, resumeOperator } from '../../src/operations/pause.js';
import { failuresCommand, operatorStatus, runsCommand } from '../../src/cli/commands/status.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { setPaused } from '../../src/db/operators.js';
import type { Pool } from '../../src/db/pool.js';
import { resolveTemporalCli } from '../../tooling/servers/temporal-cli.js';
import { applySchedules, listSchedules, SCHEDULE_PREFIX } from '../../src/schedules/apply.js';
import { progressQuery } from '../../src/workflows/import-operator.js';
import type { Progress } from '../../src/workflows/types.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { uniqueName } from '../helpers/temporal.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);
const tour = { imagesPerTour: { min: 0, max: 1 }, imageWidth: 320, imageHeight: 200 };
const OPERATORS = [
  { id: 'cli-alpha', dialect: 'A' as const, seed: 5, tourCount: 10, ...tour },
  { id: 'cli-bravo', dialect: 'B' as const, seed: 6, tourCount: 10, ...tour },
  { id: 'cli-delta', dialect: 'A' as const, seed: 7, tourCount: 10, ...tour },
  { id: 'cli-echo', dialect: 'C' as const, seed: 8, tourCount: 10, ...tour },
];

/** The CLI's commands against real Temporal, PostgreSQL and the simulator, through the same functions. */
describe('tour-import CLI', () => {
  let p: Pipeline;
  let deps: { pool: Pool; client: Client };
  let queues: { taskQueue: string; imageTaskQueue: string };
  beforeAll(async () => {
    p = await startPipeline('cli', OPERATORS);
    deps = { pool: p.db.pool, client: p.env.client };
    queues = { taskQueue: p.taskQueue, imageTaskQueue: p.imageTaskQueue };
  });
  afterAll(async () => {
    for (const s of p ? await listSchedules(p.env.client) : [])
      await p.env.client.schedule.getHandle(s.scheduleId).delete();
    await p?.close();
  });

  it('imports with live progress, then status, runs and failures show the rows of that import', async () => {
    // One tour the canonical schema rejects (a price no column can store): a recorded failure.
    const [pricey] = p.sim.operator('cli-bravo').activeCodes();
    p.sim.operator('cli-bravo').change(pricey, { price: 1e12 });
    const started = await startImport(deps, 'cli-bravo', { full: true, ...queues });
    expect(started.workflowId).toMatch(/^import:cli-bravo:\d{4}-/);
    const seen: Progress[] = [];
    const outcome = await waitForImport(deps.client, started.workflowId, (x) => seen.push(x), 100);
    expect(outcome.status).toBe('completed');
    expect(seen.length).toBeGreaterThan(0);
    expect(outcome.progress).toMatchObject({ listed: 10, done: 9, failed: 1 });

    const status = JSON.parse(JSON.stringify(await operatorStatus(deps, 'cli-bravo')));
    expect(status.operators).toHaveLength(1);
    expect(status.operators[0]).toMatchObject({ id: 'cli-bravo', state: 'idle', runningWorkflowId: null });
    expect(status.operators[0].lastRuns[0]).toMatchObject({
      workflowId: started.workflowId,
      mode: 'full',
      status: 'completed',
      counts: { listed: 10, done: 9, failed: 1 },
    });
    const runs = await runsCommand(deps, 'cli-bravo');
    expect(runs.map((r) => r.workflowId)).toEqual([started.workflowId]);
    const failures = await failuresCommand(deps, 'cli-bravo');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ workflowId: started.workflowId, kind: expect.any(String) });
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS n FROM tours WHERE operator_id = 'cli-bravo' AND status = 'active'`,
    );
    expect(rows[0].n).toBe(9);

    // Every task of the import carries the operator's fairness key: the import, its activities, its
    // ImportTour children and theirs (the server dispatches fairly between operators by it).
    const key = { fairnessKey: 'cli-bravo' };
    const parent = deps.client.workflow.getHandle(started.workflowId);
    expect((await parent.describe()).priority).toMatchObject(key);
    const tasks = await scheduledTasks(parent);
    const childIds = tasks.filter((t) => t.kind === 'child').map((t) => t.id);
    expect(childIds).toHaveLength(9); // the tour its listing carried invalid needs no child
    for (const childId of childIds) {
      const child = deps.client.workflow.getHandle(childId);
      expect((await child.describe()).priority).toMatchObject(key);
      tasks.push(...(await scheduledTasks(child)));
    }
    expect(tasks.filter((t) => t.kind === 'activity').map((t) => t.id)).toEqual(
      expect.arrayContaining(['beginImport', 'listPage', 'finishImport', 'importTourImages']),
    );
    for (const t of tasks) expect(t.priority, `${t.kind} ${t.id}`).toMatchObject(key);
  });

  it('pause flags the operator, pauses its schedule and the running import; resume reverses all three', async () => {
    await applySchedules(deps.client, p.configs, queues);
    p.sim.operator('cli-alpha').addFaults('detail', [{ type: 'latency', ms: 400 }]);
    const started = await startImport(deps, 'cli-alpha', { full: true, ...queues });
    await untilWithin30s(async () => (await listOperatorsCommand(deps)).some((o) => o.state === 'importing'));

    const paused = await pauseOperator(deps, 'cli-alpha', 'maintenance window');
    expect(paused).toMatchObject({
      signalled: started.workflowId,
      schedules: [`${SCHEDULE_PREFIX}cli-alpha`],
    });
    const row = await p.db.pool.query(`SELECT paused, pause_reason FROM operators WHERE id = 'cli-alpha'`);
    expect(row.rows[0]).toEqual({ paused: true, pause_reason: 'maintenance window' });
    const schedule = await deps.client.schedule.getHandle(`${SCHEDULE_PREFIX}cli-alpha`).describe();
    expect(schedule.state).toMatchObject({ paused: true, note: 'operator paused: maintenance window' });
    const whilePaused = await waitForImport(deps.client, started.workflowId, undefined, 100);
    expect(whilePaused).toMatchObject({ status: 'paused', message: 'paused: maintenance window' });
    // The import has recorded its pause (and paused the schedules itself) before the person resumes: a
    // resume that overtook that record would see the schedule paused again for a moment.
    const handle = deps.client.workflow.getHandle(started.workflowId);
    await untilWithin30s(async () => (await handle.query(progressQuery)).status === 'paused');
    const status = await operatorStatus(deps, 'cli-alpha');
    expect(status.operators[0]).toMatchObject({ state: 'paused', pauseReason: 'maintenance window' });

    p.sim.operator('cli-alpha').clearFaults();
    const resumed = await resumeOperator(deps, 'cli-alpha');
    expect(resumed).toMatchObject({ paused: false, signalled: started.workflowId });
    const after = await deps.client.schedule.getHandle(`${SCHEDULE_PREFIX}cli-alpha`).describe();
    expect(after.state.paused).toBe(false);
    const done = await waitForImport(deps.client, started.workflowId, undefined, 100);
    expect(done.status).toBe('completed');
    const final = await p.db.pool.query(`SELECT paused, pause_reason FROM operators WHERE id = 'cli-alpha'`);
    expect(final.rows[0]).toEqual({ paused: false, pause_reason: null });
  });

  it('imports one tour by signal-with-start; a change pushed while it runs gets another pass', async () => {
    const sim = p.sim.operator('cli-delta');
    const code = sim.activeCodes()[0];
    const externalId = String(code);
    sim.addFaults('detail', [{ type: 'latency', ms: 500, times: 1 }]);
    const detailsBefore = sim.state().requests.detail;
    const first = await startTourImport(deps, 'cli-delta', externalId, queues);
    // The second request must arrive while the first pass is fetching, not before the workflow began.
    await untilWithin30s(async () => sim.state().requests.detail > detailsBefore);
    sim.change(code);
    const second = await startTourImport(deps, 'cli-delta', externalId, queues);
    expect(second).toEqual(first);
    const r = await waitForTourImport(deps.client, first.workflowId);
    // The outcome is that of the last pass; what matters is that the tour was fetched again after the
    // change and the stored tour has the newest data. (If the push lands while the first pass is
    // completing, the server hands the workflow the signal before accepting the completion and the
    // fetch runs again within the same pass, so it may be 1 or 2 passes.)
    expect(r).toMatchObject({ status: 'completed' });
    expect(sim.state().requests.detail - detailsBefore).toBeGreaterThanOrEqual(2);
    const { rows } = await p.db.pool.query(
      `SELECT status, title FROM tours WHERE operator_id = 'cli-delta' AND external_id = $1`,
      [externalId],
    );
    expect(rows).toEqual([{ status: 'active', title: expect.stringMatching(/\(rev 1\)$/) }]);
    // `tour-import runs` shows single-tour imports too: one row per workflow run, closed (its counts
    // are those of the last pass, which may find the tour already stored by the pass before).
    const runs = await p.db.pool.query(
      `SELECT mode, status, counts FROM import_runs WHERE workflow_id = $1`,
      [first.workflowId],
    );
    expect(runs.rows).toEqual([
      { mode: 'tour', status: 'completed', counts: expect.objectContaining({ listed: 1, failed: 0 }) },
    ]);
  });

  it('import-tour refuses a paused operator with exit code 3 and starts nothing', async () => {
    const externalId = String(p.sim.operator('cli-delta').activeCodes()[3]);
    await setPaused(p.db.pool, 'cli-delta', true, 'maintenance');
    try {
      const err = await startTourImport(deps, 'cli-delta', externalId, queues).catch((e: CliError) => e);
      expect(err).toBeInstanceOf(CliError);
      expect(err).toMatchObject({
        exitCode: EXIT.skipped,
        message: expect.stringMatching(/is paused \(maintenance\)/),
      });
    } finally {
      await setPaused(p.db.pool, 'cli-delta', false, null);
    }
  });

  it('an ad hoc start with the real temporal CLI runs the whole import', async () => {
    const workflowId = uniqueName('adhoc-cli-delta');
    const input = { operatorId: 'cli-delta', mode: 'full', settings: { imageTaskQueue: p.imageTaskQueue } };
    await run(await resolveTemporalCli(), [
      'workflow',
      'start',
      '--address',
      inject('temporalAddress'),
      '--type',
      'ImportOperator',
      '--task-queue',
      p.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(input),
      '--fairness-key',
      'cli-delta',
    ]);
    const outcome = await waitForImport(deps.client, workflowId, undefined, 200);
    expect(outcome).toMatchObject({ status: 'completed', progress: { listed: 10, failed: 0 } });
    const described = await deps.client.workflow.getHandle(workflowId).describe();
    expect(described.priority).toMatchObject({ fairnessKey: 'cli-delta' });
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS n FROM tours WHERE operator_id = 'cli-delta' AND status = 'active'`,
    );
    expect(rows[0].n).toBe(10);
  });

  it('the binary answers with one sentence and a distinct exit code, and --json for reads', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: p.db.url,
      DATABASE_SCHEMA: p.db.schema,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    };
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      run('npx', ['tsx', 'src/cli/main.ts', ...args], { env: { ...env, ...extra } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const [unknown, runs, unreachable, imported, dryRun] = await Promise.all([
      cli(['status', 'nope']),
      cli(['runs', 'cli-bravo', '--json']),
      cli(['pause', 'cli-bravo'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      cli([
        'import',
        'cli-delta',
        '--wait',
        '--json',
        '--task-queue',
        p.taskQueue,
        '--image-task-queue',
        p.imageTaskQueue,
      ]),
      cli(['import', 'cli-echo', '--full', '--dry-run', '--task-queue', p.taskQueue]),
    ]);
    expect(imported.code).toBe(EXIT.ok);
    // cli-echo was never imported: every tour would be added (and its tours fetched one by one: C).
    expect(dryRun.code).toBe(EXIT.ok);
    expect(dryRun.stdout).toMatch(
      /^Dry run of cli-echo, a full listing: 1 page\(s\), 10 listed; nothing was written\./,
    );
    expect(dryRun.stdout).toMatch(/^add +10 /m);
    expect(JSON.parse(imported.stdout)).toMatchObject({ status: 'completed', progress: { failed: 0 } });
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain(
      'unknown operator "nope" (configured: cli-alpha, cli-bravo, cli-delta, cli-echo)',
    );
    expect(runs.code).toBe(EXIT.ok);
    expect(JSON.parse(runs.stdout)).toEqual([
      expect.objectContaining({ operatorId: 'cli-bravo', status: 'completed' }),
    ]);
    expect(unreachable.code).toBe(EXIT.temporalUnreachable);
    expect(unreachable.stderr).toContain('Temporal is not reachable at 127.0.0.1:1');
  });
});

const untilWithin30s = (check: () => Promise<boolean>) => until(check, 'condition', 30_000);

/** The activities and children a workflow scheduled, with the priority each was given. */
async function scheduledTasks(handle: WorkflowHandle) {
  const { EventType } = proto.temporal.api.enums.v1;
  const tasks: { kind: 'activity' | 'child'; id: string; priority: unknown }[] = [];
  for (const e of (await handle.fetchHistory()).events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes!;
      tasks.push({ kind: 'activity', id: a.activityType?.name ?? '', priority: a.priority });
    } else if (e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes!;
      tasks.push({ kind: 'child', id: a.workflowId ?? '', priority: a.priority });
    }
  }
  return tasks;
}
