import { listOperators, type OperatorRow } from '../../db/operators.js';
import type { Pool } from '../../db/pool.js';
import type { OperatorConfig } from '../../operators/registry.js';
import { syncOperators } from '../../operators/resolver.js';

export interface OperatorSummary {
  id: string;
  name: string;
  dialect: string;
  state: 'idle' | 'importing' | 'paused';
  pauseReason: string | null;
  runningWorkflowId: string | null;
}

export function operatorState(op: OperatorRow): OperatorSummary['state'] {
  if (op.paused) return 'paused';
  return op.runningWorkflowId ? 'importing' : 'idle';
}

export async function listOperatorsCommand(deps: { pool: Pool }): Promise<OperatorSummary[]> {
  return (await listOperators(deps.pool)).map((op) => ({
    id: op.id,
    name: op.name,
    dialect: op.dialect,
    state: operatorState(op),
    pauseReason: op.pauseReason,
    runningWorkflowId: op.runningWorkflowId,
  }));
}

/** Writes the operators file's non-secret settings into PostgreSQL; pause state and delta marks stay. */
export async function syncOperatorsCommand(
  deps: { pool: Pool },
  configs: OperatorConfig[],
): Promise<{ synced: string[] }> {
  await syncOperators(deps.pool, configs);
  return { synced: configs.map((c) => c.id) };
}
