import type { Client } from '@temporalio/client';
import { TASK_QUEUES, WORKFLOW_TYPES, dryRunWorkflowId, operatorPriority } from '../constants.js';
import type { ImportOperatorInput, ImportOperatorResult, ImportSettings } from '../workflows/types.js';

/**
 * `tour-import import <operator> --dry-run`: an ImportOperator in its dry-run mode (see
 * src/workflows/import-operator/dry-run.ts), run to its end. Its result says what an import would add,
 * change and remove, and whether the removal guard would hold the removals; nothing is written.
 */
export async function dryRunImport(
  deps: { client: Client },
  operatorId: string,
  o: { full?: boolean; taskQueue?: string; now?: Date; settings?: ImportSettings } = {},
): Promise<ImportOperatorResult & { workflowId: string }> {
  const mode = o.full ? 'full' : 'delta';
  const input: ImportOperatorInput = {
    operatorId,
    mode,
    dryRun: true,
    ...(o.settings && { settings: o.settings }),
  };
  const workflowId = dryRunWorkflowId(operatorId, o.now ?? new Date());
  const result: ImportOperatorResult = await deps.client.workflow.execute(WORKFLOW_TYPES.importOperator, {
    taskQueue: o.taskQueue ?? TASK_QUEUES.tourImport,
    workflowId,
    args: [input],
    priority: operatorPriority(operatorId),
  });
  return { workflowId, ...result };
}
