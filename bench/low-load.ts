/**
 * Low load: one operator, a window of 2, a small catalog, so that neither pipeline saturates the machine
 * and the per-tour latency the durable path adds shows apart from CPU contention. Plain's tour (start of
 * its processing to its database write) against tour-import's ImportTour child (start to close).
 */
import { plainJob, runBaseline } from './lib/baseline.js';
import type { Bench } from './lib/harness.js';
import { cleanImport } from './lib/imports.js';
import { busyShare } from './lib/proc.js';
import type { ImportContext } from './lib/rig.js';
import type { PipelineFigures } from './report.js';

export const LOW_LOAD_OPERATOR = 'low-load';

export interface LowLoadFigures {
  tours: number;
  images: number;
  window: number;
  plain: PipelineFigures;
  tourImport: PipelineFigures;
  /** The whole machine's busy share during each side (/proc/stat): how far from saturation it ran. */
  plainBusy: number;
  tourImportBusy: number;
}

export const lowLoadSize = (smoke: boolean) => ({ tours: smoke ? 10 : 40, images: smoke ? 2 : 3, window: 2 });

/** Added latency per tour at p50, tour-import over plain. */
export const addedP50Ms = (f: LowLoadFigures) => f.tourImport.p50Ms - f.plain.p50Ms;

async function lowLoad(deps: {
  smoke: boolean;
  /** Each side over the low-load catalog at the given window. */
  plain: (window: number) => Promise<PipelineFigures>;
  tourImport: (window: number) => Promise<PipelineFigures>;
  log: (line: string) => void;
}): Promise<LowLoadFigures> {
  const size = lowLoadSize(deps.smoke);
  deps.log(`low load: ${size.tours} tours × ${size.images} images, window ${size.window}; plain`);
  let busy = busyShare();
  const plain = await deps.plain(size.window);
  const plainBusy = busy();
  deps.log('low load: tour-import');
  busy = busyShare();
  const tourImport = await deps.tourImport(size.window);
  const tourImportBusy = busy();
  const f = { ...size, plain, tourImport, plainBusy, tourImportBusy };
  deps.log(
    `low load: p50 per tour plain ${plain.p50Ms.toFixed(0)} ms (busy ${(plainBusy * 100).toFixed(0)} %), ` +
      `tour-import ${tourImport.p50Ms.toFixed(0)} ms (busy ${(tourImportBusy * 100).toFixed(0)} %): +${addedP50Ms(f).toFixed(0)} ms`,
  );
  return f;
}

/** Low load on the bench's harness: plain at the ceiling's best probe, tour-import on `ctx`. */
export const lowLoadScenario = (bench: Bench, ctx: ImportContext) =>
  lowLoad({
    smoke: bench.options.smoke,
    log: bench.log,
    plain: (window) =>
      runBaseline(bench, 'low load: plain', 'bench/plain.ts', {
        ...plainJob(bench, bench.best),
        operatorId: LOW_LOAD_OPERATOR,
        apiKey: bench.apiKey(LOW_LOAD_OPERATOR),
        maxTours: lowLoadSize(bench.options.smoke).tours,
        tourConcurrency: window,
      }),
    tourImport: (window) => cleanImport(bench, ctx, 'low load: tour-import', LOW_LOAD_OPERATOR, { window }),
  });
