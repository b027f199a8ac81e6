/**
 * Many operators at once: several catalogs importing together, each within its own window (the operators
 * file's), against plain doing the same catalogs concurrently in one process (bench/plain.ts `catalogs`,
 * its resize limit at the ceiling's best probe, as every plain run).
 */
import { randomBytes } from 'node:crypto';
import type { ImportOperatorResult } from '../src/workflows/types.js';
import { plainJob, runBaseline } from './lib/baseline.js';
import { figures } from './lib/figures.js';
import type { Bench } from './lib/harness.js';
import { busyShare } from './lib/proc.js';
import { startMeasurement, type ImportContext } from './lib/rig.js';
import type { SimHandle } from './lib/sim.js';
import type { PipelineFigures } from './report.js';

interface ManyOperatorsSize {
  operators: number;
  tours: number;
  images: number;
}

export interface ManyOperatorsFigures extends ManyOperatorsSize {
  window: number;
  plain: PipelineFigures;
  tourImport: PipelineFigures;
  /** The whole machine's busy share during each side (/proc/stat). */
  plainBusy: number;
  tourImportBusy: number;
}

export const manyOperatorIds = (n: number) => Array.from({ length: n }, (_, i) => `many-${i + 1}`);

async function manyOperators(deps: {
  size: ManyOperatorsSize;
  window: number;
  ctx: ImportContext;
  sim: SimHandle;
  /** Plain over these catalogs at once. */
  plain: (operatorIds: string[]) => Promise<PipelineFigures>;
  log: (line: string) => void;
}): Promise<ManyOperatorsFigures> {
  const { size, log } = deps;
  const ids = manyOperatorIds(size.operators);
  const what = `${size.operators} operators × ${size.tours} tours × ${size.images} images`;
  log(`many operators: plain, ${what}`);
  let busy = busyShare();
  const plain = await deps.plain(ids);
  const plainBusy = busy();
  log(`many operators: plain ${plain.toursPerSec.toFixed(2)} tours/s; tour-import, ${what} at once`);
  busy = busyShare();
  const tourImport = await importAll(deps, ids);
  const tourImportBusy = busy();
  log(`many operators: tour-import ${tourImport.toursPerSec.toFixed(2)} tours/s`);
  return { ...size, window: deps.window, plain, tourImport, plainBusy, tourImportBusy };
}

/** Starts every operator's full import at the same moment and measures them as one. */
async function importAll(
  deps: { ctx: ImportContext; sim: SimHandle; window: number; size: ManyOperatorsSize },
  ids: string[],
): Promise<PipelineFigures> {
  const { ctx, sim } = deps;
  const stop = await startMeasurement(ctx, sim);
  const startedAt = new Date(Date.now() - 1000);
  const tag = randomBytes(3).toString('hex');
  const handles = await Promise.all(
    ids.map((operatorId) =>
      ctx.client.workflow.start('ImportOperator', {
        taskQueue: 'tour-import',
        workflowId: `bench-${operatorId}-${tag}`,
        args: [{ operatorId, mode: 'full', settings: { window: deps.window } }],
      }),
    ),
  );
  const results = (await Promise.all(handles.map((h) => h.result()))) as ImportOperatorResult[];
  const { wallMs, resized, usage } = await stop();
  const bad = results.filter((r) => r.status !== 'completed' || r.progress.failed > 0);
  if (bad.length) throw new Error(`many operators: imports did not complete cleanly: ${JSON.stringify(bad)}`);
  await new Promise((r) => setTimeout(r, 1500)); // visibility is eventually consistent
  const latenciesMs: number[] = [];
  for await (const wf of ctx.client.workflow.list({
    query: `WorkflowType = 'ImportTour' AND StartTime >= '${startedAt.toISOString()}'`,
  }))
    if (wf.workflowId.startsWith('tour:many-') && wf.closeTime)
      latenciesMs.push(wf.closeTime.getTime() - wf.startTime.getTime());
  const tours = results.reduce((n, r) => n + r.progress.done, 0);
  return figures(
    `many operators: tour-import (${ids.length} imports at once)`,
    {
      wallMs,
      tours,
      imageSlots: tours * deps.size.images,
      downloads: usage.counters.image200,
      resizes: resized,
      latenciesMs,
    },
    usage,
  );
}

/** Many operators on the bench's harness: plain at the ceiling's best probe, the imports on `ctx`. */
export const manyOperatorsScenario = (bench: Bench, ctx: ImportContext) =>
  manyOperators({
    size: { operators: bench.size.manyOperators, tours: bench.size.manyTours, images: bench.size.images },
    window: bench.size.window,
    ctx,
    sim: bench.sim,
    log: bench.log,
    plain: (ids) =>
      runBaseline(bench, 'many operators: plain', 'bench/plain.ts', {
        ...plainJob(bench, bench.best),
        maxTours: bench.size.manyTours,
        catalogs: ids.map((id) => ({ operatorId: id, apiKey: bench.apiKey(id) })),
      }),
  });
