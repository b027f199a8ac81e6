import type { ScheduleSpec } from '@temporalio/client';
import type { OperatorConfig } from '../operators/registry.js';
import type { ImportMode } from '../workflows/types.js';

/** Every schedule this project owns starts with this, so `apply` can find and remove stale ones. */
export const SCHEDULE_PREFIX = 'import-schedule:';

export function scheduleId(operatorId: string, mode: ImportMode = 'delta'): string {
  return `${SCHEDULE_PREFIX}${operatorId}${mode === 'full' ? ':full' : ''}`;
}

/** The operator and mode a schedule id stands for; undefined for schedules that are not ours. */
export function parseScheduleId(id: string): { operatorId: string; mode: ImportMode } | undefined {
  if (!id.startsWith(SCHEDULE_PREFIX)) return undefined;
  const [operatorId, suffix] = id.slice(SCHEDULE_PREFIX.length).split(':');
  if (!operatorId || (suffix !== undefined && suffix !== 'full')) return undefined;
  return { operatorId, mode: suffix === 'full' ? 'full' : 'delta' };
}

export interface DesiredSchedule {
  scheduleId: string;
  operatorId: string;
  mode: ImportMode;
  spec: ScheduleSpec;
}

/**
 * The schedules an operator's config asks for: the regular one (interval or cron, with jitter) and,
 * when `fullEvery`/`fullCron` is set, a second one that runs full reconciliations.
 * `fullEvery: N` with an interval becomes an interval N times as long, offset by half a regular
 * interval so the two do not fire at the same instant (the import lock would skip one of them).
 * `fullEvery` with a cron schedule cannot be expressed as a schedule and is reported as a warning.
 */
export function desiredSchedules(op: OperatorConfig): { schedules: DesiredSchedule[]; warnings: string[] } {
  const s = op.schedule;
  const jitter = s.jitterMs > 0 ? s.jitterMs : undefined;
  const base: ScheduleSpec = s.everyMs
    ? { intervals: [{ every: s.everyMs }], jitter }
    : { cronExpressions: [s.cron!], jitter };
  const schedules: DesiredSchedule[] = [
    { scheduleId: scheduleId(op.id), operatorId: op.id, mode: 'delta', spec: base },
  ];
  const warnings: string[] = [];
  let full: ScheduleSpec | undefined;
  if (s.fullCron) full = { cronExpressions: [s.fullCron], jitter };
  else if (s.fullEvery && s.everyMs)
    full = { intervals: [{ every: s.everyMs * s.fullEvery, offset: Math.floor(s.everyMs / 2) }], jitter };
  else if (s.fullEvery)
    warnings.push(
      `operator "${op.id}": fullEvery needs an interval schedule ("every"); use fullCron with a cron schedule`,
    );
  if (full)
    schedules.push({ scheduleId: scheduleId(op.id, 'full'), operatorId: op.id, mode: 'full', spec: full });
  return { schedules, warnings };
}
