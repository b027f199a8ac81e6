import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { HOUSEKEEPING_WORKFLOW_ID, TASK_QUEUES, WORKFLOW_TYPES } from '../constants.js';
import type { Housekeeping } from '../workflows/housekeeping.js';
import { ignoreMissing } from './apply.js';

/** Not under the operators' prefix (import-schedule:), so applying the operators file leaves it alone. */
export const HOUSEKEEPING_SCHEDULE_ID = 'housekeeping-schedule';

export type HousekeepingScheduleChange = 'created' | 'updated' | 'deleted' | 'absent';

/**
 * Makes the Housekeeping schedule match configuration: every `everyMs` (HOUSEKEEPING_EVERY_MINUTES),
 * one run at a time, no catch-up storm after an outage; `everyMs` 0 deletes it. Updating keeps a paused
 * schedule paused.
 */
export async function applyHousekeepingSchedule(
  client: Client,
  o: { everyMs: number; taskQueue?: string },
): Promise<HousekeepingScheduleChange> {
  const handle = client.schedule.getHandle(HOUSEKEEPING_SCHEDULE_ID);
  if (o.everyMs <= 0) return (await ignoreMissing(handle.delete())) === null ? 'absent' : 'deleted';
  const spec = { intervals: [{ every: o.everyMs }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof Housekeeping> = {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPES.housekeeping,
    taskQueue: o.taskQueue ?? TASK_QUEUES.tourImport,
    workflowId: HOUSEKEEPING_WORKFLOW_ID,
    args: [{}],
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' };
  try {
    await client.schedule.create({ scheduleId: HOUSEKEEPING_SCHEDULE_ID, spec, action, policies });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update<typeof Housekeeping>((prev) => ({
      spec,
      action,
      policies,
      state: { paused: prev.state.paused, note: prev.state.note },
    }));
    return 'updated';
  }
}
