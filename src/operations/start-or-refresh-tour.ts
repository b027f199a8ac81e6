import type { Client } from '@temporalio/client';
import { SIGNALS, WORKFLOW_TYPES, importTourWorkflowId, operatorPriority } from '../constants.js';
import type { ImportTourInput } from '../workflows/types.js';

export interface TourImportRequest {
  operatorId: string;
  externalId: string;
  taskQueue: string;
  /** Left out of the input when not given: the workflow then uses its default. */
  imageTaskQueue?: string;
  /** Re-import even when the tour's content hash is unchanged (`tour-import import-tour --force`). */
  force?: boolean;
}

/**
 * Imports one tour now, the one way both doors do it (`tour-import import-tour` and the operators'
 * webhook). Signal-with-start of `refresh`: a running import of this tour runs once more with the
 * latest data instead of failing as a duplicate, otherwise a new one starts — so a burst of pushes
 * coalesces into one running and one pending pass. Callers check that the operator is not paused.
 */
export async function startOrRefreshTourImport(
  client: Client,
  r: TourImportRequest,
): Promise<{ workflowId: string; runId: string }> {
  const { operatorId, externalId } = r;
  const input: ImportTourInput = { operatorId, externalId, force: r.force };
  if (r.imageTaskQueue) input.imageTaskQueue = r.imageTaskQueue;
  const workflowId = importTourWorkflowId(operatorId, externalId);
  const handle = await client.workflow.signalWithStart(WORKFLOW_TYPES.importTour, {
    taskQueue: r.taskQueue,
    workflowId,
    args: [input],
    signal: SIGNALS.refresh,
    signalArgs: [],
    priority: operatorPriority(operatorId),
  });
  return { workflowId, runId: handle.signaledRunId };
}
