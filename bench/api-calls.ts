/**
 * Operator API calls per full import, per dialect: a small catalog of each dialect, imported in full by
 * the product, counted by the simulator on its list, detail and image routes. The bench's main catalog
 * is dialect A only, and what an import costs an operator's API depends on the dialect: A, B and D can
 * import from their listing records (D's is one answer, staged), C needs one detail call per tour
 * (OPERATOR_DIALECTS.md).
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Dialect } from '../src/operators/types.js';
import type { ImportOperatorResult } from '../src/workflows/types.js';
import type { Bench } from './lib/harness.js';
import type { ImportContext } from './lib/rig.js';
import type { SimHandle } from './lib/sim.js';

export const API_CALL_DIALECTS: Dialect[] = ['A', 'B', 'C', 'D'];

/** The simulator operator whose catalog is imported to count dialect `d`'s calls. */
export const apiCallsOperatorId = (d: Dialect) => `calls-${d.toLowerCase()}`;

export interface ApiCallFigures {
  dialect: Dialect;
  /** Tours the import imported (ImportTour children done). */
  tours: number;
  list: number;
  detail: number;
  image: number;
}

/** Full imports of every dialect's catalog at once (counts are per operator, so they do not mix). */
async function measureApiCalls(client: Client, sim: SimHandle, window: number): Promise<ApiCallFigures[]> {
  const ids = API_CALL_DIALECTS.map(apiCallsOperatorId);
  // Counted as a difference: the simulator's counters run from its start and are not ours to reset.
  const before = await sim.requests(ids);
  const results = await Promise.all(
    ids.map(async (operatorId) => {
      const result: ImportOperatorResult = await client.workflow.execute('ImportOperator', {
        taskQueue: 'tour-import',
        workflowId: `bench-${operatorId}-${randomBytes(3).toString('hex')}`,
        args: [{ operatorId, mode: 'full', settings: { window } }],
      });
      if (result.status !== 'completed' || result.progress.failed > 0)
        throw new Error(
          `api calls: import of ${operatorId} did not complete cleanly: ${JSON.stringify(result)}`,
        );
      return result;
    }),
  );
  const after = await sim.requests(ids);
  return API_CALL_DIALECTS.map((dialect, i) => {
    const [b, a] = [before[ids[i]], after[ids[i]]];
    return {
      dialect,
      tours: results[i].progress.done,
      list: a.list - b.list,
      detail: a.detail - b.detail,
      image: a.image - b.image,
    };
  });
}

/** Operator API calls (list + detail, images apart) per imported tour. */
export const apiCallsPerTour = (f: ApiCallFigures) => (f.tours ? (f.list + f.detail) / f.tours : NaN);

/** The scenario: every dialect's catalog imported in full, its calls logged per dialect. */
export async function apiCalls(bench: Bench, ctx: ImportContext): Promise<ApiCallFigures[]> {
  const { log, size } = bench;
  log(`api calls: full imports of ${size.callsTours} tours of dialects ${API_CALL_DIALECTS.join(', ')}`);
  const figures = await measureApiCalls(ctx.client, bench.sim, size.window);
  for (const f of figures)
    log(
      `api calls: ${f.dialect}: ${f.tours} tours, ${f.list} list + ${f.detail} detail calls ` +
        `(${apiCallsPerTour(f).toFixed(2)} per tour), ${f.image} image requests`,
    );
  return figures;
}
