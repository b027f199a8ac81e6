import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Priority } from '@temporalio/common';
import { TASK_QUEUES, WORKFLOW_TYPES, importOperatorWorkflowId, operatorPriority } from '../constants.js';
import type { OperatorConfig } from '../operators/registry.js';
import type { ImportOperator } from '../workflows/import-operator.js';
import type { ImportOperatorInput, ImportMode } from '../workflows/types.js';
import {
  SCHEDULE_PREFIX,
  desiredSchedules,
  parseScheduleId,
  scheduleId,
  type DesiredSchedule,
} from './spec.js';

export interface ScheduleTarget {
  /** Where the scheduled imports run; tests pass their own queues. */
  taskQueue?: string;
  imageTaskQueue?: string;
}

export interface ApplyOptions extends ScheduleTarget {
  /** Operators paused in PostgreSQL: their schedules are created paused, with the reason as note. */
  paused?: Map<string, string>;
}

export interface ApplyResult {
  created: string[];
  updated: string[];
  deleted: string[];
  warnings: string[];
}

// After an outage one late run is enough: the next delta import picks up everything that changed.
const CATCHUP_WINDOW = '5 minutes';

function actionFor(
  d: DesiredSchedule,
  t: ScheduleTarget,
): ScheduleOptionsStartWorkflowAction<typeof ImportOperator> {
  const input: ImportOperatorInput = { operatorId: d.operatorId, mode: d.mode };
  if (t.imageTaskQueue) input.settings = { imageTaskQueue: t.imageTaskQueue };
  // The SDK (1.24) encodes an action's `priority` and describe() returns it, but its option type leaves
  // the field out: typed here so it reaches the server.
  const action: ScheduleOptionsStartWorkflowAction<typeof ImportOperator> & { priority: Priority } = {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPES.importOperator,
    taskQueue: t.taskQueue ?? TASK_QUEUES.tourImport,
    // Temporal appends the scheduled time, so each run has its own id with the operator's prefix.
    workflowId: `${importOperatorWorkflowId(d.operatorId)}${d.mode === 'full' ? ':full' : ''}`,
    args: [input],
    priority: operatorPriority(d.operatorId),
  };
  return action;
}

/**
 * Makes Temporal's schedules match the operators file: one per operator (plus one for full imports
 * where configured), created or updated in place, and ours whose operator is gone deleted.
 * Updating keeps a schedule's paused state: pausing is an operator decision, not configuration.
 */
export async function applySchedules(
  client: Client,
  configs: OperatorConfig[],
  o: ApplyOptions = {},
): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], deleted: [], warnings: [] };
  const wanted = new Set<string>();
  for (const op of configs) {
    const { schedules, warnings } = desiredSchedules(op);
    result.warnings.push(...warnings);
    for (const d of schedules) {
      wanted.add(d.scheduleId);
      const action = actionFor(d, o);
      const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW };
      try {
        const reason = o.paused?.get(d.operatorId);
        await client.schedule.create({
          scheduleId: d.scheduleId,
          spec: d.spec,
          action,
          policies,
          memo: { operatorId: d.operatorId, mode: d.mode },
          state: reason === undefined ? {} : { paused: true, note: `operator paused: ${reason}` },
        });
        result.created.push(d.scheduleId);
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await client.schedule.getHandle(d.scheduleId).update<typeof ImportOperator>((prev) => ({
          spec: d.spec,
          action,
          policies,
          state: { paused: prev.state.paused, note: prev.state.note },
        }));
        result.updated.push(d.scheduleId);
      }
    }
  }
  for (const s of await listSchedules(client)) {
    if (wanted.has(s.scheduleId)) continue;
    await ignoreMissing(client.schedule.getHandle(s.scheduleId).delete());
    result.deleted.push(s.scheduleId);
  }
  return result;
}

export interface ScheduleInfo {
  scheduleId: string;
  operatorId: string;
  mode: ImportMode;
  paused: boolean;
  note: string | null;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastWorkflowId: string | null;
}

/** Our schedules (id prefix `import-schedule:`), sorted by id. Listing is eventually consistent. */
export async function listSchedules(client: Client): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for await (const s of client.schedule.list()) {
    const parsed = parseScheduleId(s.scheduleId);
    if (!parsed) continue;
    const last = s.info.recentActions.at(-1);
    out.push({
      scheduleId: s.scheduleId,
      ...parsed,
      paused: s.state.paused,
      note: s.state.note || null,
      nextRunAt: s.info.nextActionTimes[0] ?? null,
      lastRunAt: last?.takenAt ?? null,
      lastWorkflowId: last?.action.workflow.workflowId ?? null,
    });
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** Pauses every schedule of the operator; returns the ids that exist (none when never applied). */
export async function pauseOperatorSchedules(client: Client, operatorId: string, note: string) {
  return forEachOperatorSchedule(client, operatorId, (h) => h.pause(note));
}

export async function unpauseOperatorSchedules(client: Client, operatorId: string, note: string) {
  return forEachOperatorSchedule(client, operatorId, (h) => h.unpause(note));
}

/** Starts the scheduled action now; the schedule's overlap policy (SKIP) still applies. */
export async function triggerOperatorSchedule(
  client: Client,
  operatorId: string,
  mode: ImportMode = 'delta',
): Promise<boolean> {
  return (await ignoreMissing(client.schedule.getHandle(scheduleId(operatorId, mode)).trigger())) !== null;
}

async function forEachOperatorSchedule(
  client: Client,
  operatorId: string,
  fn: (h: ReturnType<Client['schedule']['getHandle']>) => Promise<void>,
): Promise<string[]> {
  const done: string[] = [];
  for (const mode of ['delta', 'full'] as const) {
    const id = scheduleId(operatorId, mode);
    if ((await ignoreMissing(fn(client.schedule.getHandle(id)))) !== null) done.push(id);
  }
  return done;
}

/** Resolves to null when the schedule does not exist. */
export async function ignoreMissing<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

export { SCHEDULE_PREFIX, scheduleId };
