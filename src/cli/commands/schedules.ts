import type { Client } from '@temporalio/client';
import { listOperators } from '../../db/operators.js';
import type { Pool } from '../../db/pool.js';
import type { OperatorConfig } from '../../operators/registry.js';
import {
  applySchedules,
  pauseOperatorSchedules,
  triggerOperatorSchedule,
  unpauseOperatorSchedules,
  type ApplyResult,
  type ScheduleTarget,
} from '../../schedules/apply.js';
import { scheduleId } from '../../schedules/spec.js';
import { applyHousekeepingSchedule, HOUSEKEEPING_SCHEDULE_ID } from '../../schedules/housekeeping.js';
import type { ImportMode } from '../../workflows/types.js';
import { UnknownOperatorError } from '../../operations/operators.js';
import { CliError, EXIT } from '../errors.js';

/**
 * Applies the operators file; operators paused in PostgreSQL get their new schedules paused too. With
 * `housekeepingEveryMs` (HOUSEKEEPING_EVERY_MINUTES), the Housekeeping schedule is applied as well.
 */
export async function applySchedulesCommand(
  deps: { client: Client; pool: Pool },
  configs: OperatorConfig[],
  o: ScheduleTarget & { housekeepingEveryMs?: number } = {},
): Promise<ApplyResult> {
  const { housekeepingEveryMs, ...target } = o;
  const paused = new Map(
    (await listOperators(deps.pool)).filter((op) => op.paused).map((op) => [op.id, op.pauseReason ?? '']),
  );
  const result = await applySchedules(deps.client, configs, { ...target, paused });
  if (housekeepingEveryMs === undefined) return result;
  const change = await applyHousekeepingSchedule(deps.client, {
    everyMs: housekeepingEveryMs,
    taskQueue: target.taskQueue,
  });
  if (change !== 'absent') result[change].push(HOUSEKEEPING_SCHEDULE_ID);
  return result;
}

/** Pauses or unpauses only the schedules (the operator itself stays as it is). */
export async function setSchedulesPaused(
  deps: { client: Client },
  configs: OperatorConfig[],
  operatorId: string,
  paused: boolean,
  note?: string,
): Promise<{ operatorId: string; paused: boolean; schedules: string[] }> {
  requireConfigured(configs, operatorId);
  const schedules = paused
    ? await pauseOperatorSchedules(deps.client, operatorId, note ?? 'paused from the CLI')
    : await unpauseOperatorSchedules(deps.client, operatorId, note ?? 'unpaused from the CLI');
  if (!schedules.length) throw noSchedule(scheduleId(operatorId));
  return { operatorId, paused, schedules };
}

export async function triggerSchedule(
  deps: { client: Client },
  configs: OperatorConfig[],
  operatorId: string,
  mode: ImportMode,
): Promise<{ scheduleId: string; triggered: true }> {
  requireConfigured(configs, operatorId);
  const id = scheduleId(operatorId, mode);
  if (!(await triggerOperatorSchedule(deps.client, operatorId, mode))) throw noSchedule(id);
  return { scheduleId: id, triggered: true };
}

function requireConfigured(configs: OperatorConfig[], operatorId: string): void {
  if (!configs.some((c) => c.id === operatorId))
    throw new UnknownOperatorError(
      operatorId,
      configs.map((c) => c.id),
    );
}

function noSchedule(id: string): CliError {
  return new CliError(`no schedule ${id} exists; run \`tour-import schedules apply\` first`, EXIT.usage);
}
