import type { Pool } from '../../db/pool.js';
import * as operators from '../../db/operators.js';
import type { OperatorAdapter } from '../../operators/types.js';
import { nonRetryable } from '../failures.js';
import { PERMANENT_FAILURES } from '../../domain/errors.js';

export interface OperatorImportDeps {
  pool: Pool;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  /** Whether a workflow holding an operator's import lock is still running (stale locks are taken over). */
  isWorkflowRunning(workflowId: string): Promise<boolean>;
  /** The operator's Temporal Schedules, paused and unpaused with the operator (unset: none to move). */
  schedules?: OperatorSchedules;
}

/** One owner of pause state: whoever pauses or resumes an operator moves its schedules too. */
export interface OperatorSchedules {
  pause(operatorId: string, note: string): Promise<unknown>;
  unpause(operatorId: string, note: string): Promise<unknown>;
}

/** The operator's stored row, or a non-retryable UnknownOperator that says how to configure it. */
export async function requireOperator(pool: Pool, operatorId: string) {
  const op = await operators.getOperator(pool, operatorId);
  if (!op) {
    throw nonRetryable(
      PERMANENT_FAILURES.unknownOperator,
      `Unknown operator "${operatorId}": it is not configured (run \`tour-import operators sync\`).`,
    );
  }
  return op;
}
