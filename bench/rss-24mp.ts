/**
 * The image worker's peak RSS on 24-megapixel sources, with whatever sizing it gave itself from the host
 * (its defaults unless the bench was given image-worker knobs): a catalog of 6000×4000 photos imported
 * in full while VmHWM is sampled, as for every scenario.
 */
import { readFileSync } from 'node:fs';
import type { Bench } from './lib/harness.js';
import { cleanImport } from './lib/imports.js';
import type { ImportContext } from './lib/rig.js';
import { imageWorkerDefaults } from './options.js';
import type { PipelineFigures } from './report.js';

export const RSS_24MP = { operator: 'rss-24mp' };

/**
 * The catalog (the simulator's least is 10 tours). Painting a 24 MP photo costs the simulator about 8 s of
 * CPU here, once (the bench keeps painted images on disk); the smoke run, on a fresh CI machine each time,
 * paints 3 MP ones instead, which exercises the scenario without judging it.
 */
export const rss24mpSize = (smoke: boolean) =>
  smoke
    ? { tours: 10, images: 1, width: 2000, height: 1500 }
    : { tours: 10, images: 1, width: 6000, height: 4000 };

export interface Rss24mpFigures {
  tours: number;
  images: number;
  width: number;
  height: number;
  /** Peak RSS of the image worker's process tree, MB. */
  peakRssMb: number;
  /** True when no image-worker knob was given: the worker sized itself. */
  defaults: boolean;
  /** The sizing the image worker logged at start (resizes, pool, memory budget). */
  sizing?: Record<string, unknown>;
  import: PipelineFigures;
}

async function rss24mp(deps: {
  smoke: boolean;
  defaults: boolean;
  /** The image worker's log file, where it states its sizing. */
  imageWorkerLog: string;
  /** A full import of the 24 MP catalog. */
  run: () => Promise<PipelineFigures>;
  log: (line: string) => void;
}): Promise<Rss24mpFigures> {
  const size = rss24mpSize(deps.smoke);
  deps.log(`24 MP: ${size.tours} tours × ${size.images} images of ${size.width}×${size.height}`);
  const f = await deps.run();
  const peakRssMb = f.peakRssMb['image-processing'] ?? NaN;
  deps.log(`24 MP: image worker peak RSS ${peakRssMb.toFixed(0)} MB`);
  return {
    ...size,
    peakRssMb,
    defaults: deps.defaults,
    sizing: loggedSizing(deps.imageWorkerLog),
    import: f,
  };
}

function loggedSizing(logFile: string): Record<string, unknown> | undefined {
  for (const line of readFileSync(logFile, 'utf8').split('\n'))
    if (line.includes('image-processing worker started'))
      try {
        const entry = JSON.parse(line) as { sizing?: Record<string, unknown> };
        return entry.sizing;
      } catch {
        return undefined;
      }
  return undefined;
}

/** The scenario on the bench's single workers (`ctx`), whose image worker's log states its sizing. */
export const rss24mpScenario = (bench: Bench, ctx: ImportContext) =>
  rss24mp({
    smoke: bench.options.smoke,
    log: bench.log,
    defaults: imageWorkerDefaults(bench.options.cli),
    imageWorkerLog: ctx.workers[1].logFile,
    run: () => cleanImport(bench, ctx, '24 MP: tour-import', RSS_24MP.operator),
  });
