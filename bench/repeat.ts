/**
 * `--repeat N`: scenarios 1-4 (ceiling, legacy, plain, the full import) run N times; each run's throughputs
 * and ratios are kept, and the report gives their medians and spread (lowest–highest).
 */
import type { Client } from '@temporalio/client';
import type { CeilingProbe } from './ceiling.js';
import { ceiling } from './ceiling-probes.js';
import { runLegacy, runPlain } from './lib/baseline.js';
import type { Bench } from './lib/harness.js';
import { cleanImport, contextOf, freshStore, startPair, stopWorkers } from './lib/imports.js';
import { percentile } from './lib/stats.js';
import type { PipelineFigures } from './report.js';

export interface RepeatRun {
  ceiling?: number;
  legacy?: number;
  plain?: number;
  tourImport: number;
  tourImportResizes: number;
  /** The three ratios of the table, this run's figures only. */
  overCeiling?: number;
  overLegacy?: number;
  overPlain?: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function repeatRun(r: {
  ceiling?: CeilingProbe;
  legacy?: PipelineFigures;
  plain?: PipelineFigures;
  tourImport: PipelineFigures;
}): RepeatRun {
  const ti = r.tourImport;
  return {
    ceiling: r.ceiling?.imagesPerSec,
    legacy: r.legacy?.toursPerSec,
    plain: r.plain?.toursPerSec,
    tourImport: ti.toursPerSec,
    tourImportResizes: ti.resizesPerSec,
    overCeiling: r.ceiling && ti.resizesPerSec / r.ceiling.imagesPerSec,
    overLegacy: r.legacy && ti.toursPerSec / r.legacy.toursPerSec,
    overPlain: r.plain && ti.toursPerSec / r.plain.toursPerSec,
  };
}

/** Median and spread of one figure over the runs that measured it; undefined when none did. */
export function spread(runs: RepeatRun[], key: keyof RepeatRun): Spread | undefined {
  const values = runs.map((r) => r[key]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (!values.length) return undefined;
  // The lower median for an even count: the figure of a run that happened.
  const median = percentile(values, 50);
  return { median, min: Math.min(...values), max: Math.max(...values), runs: values };
}

/**
 * Runs 2 to N of scenarios 1-4 after `first`, the full import on a fresh schema, blob folder and workers
 * each time; undefined without `--repeat`. Last in a run, once the single workers have stopped: they
 * poll the same task queue and would take the imports.
 */
export async function repeatScenarios(
  bench: Bench,
  client: Client,
  first: RepeatRun,
): Promise<RepeatRun[] | undefined> {
  const { size, log, options } = bench;
  const repeats = [first];
  for (let i = 2; i <= size.repeat; i++) {
    log(`repeat ${i} of ${size.repeat}: scenarios 1-4`);
    const best = options.skip.has('ceiling') ? undefined : (await ceiling(bench, i)).best;
    const legacy = options.skip.has('legacy') ? undefined : await runLegacy(bench);
    const plain = options.skip.has('plain') ? undefined : await runPlain(bench);
    log(
      `repeat ${i}: legacy ${legacy?.toursPerSec.toFixed(2)}, plain ${plain?.toursPerSec.toFixed(2)} tours/s`,
    );
    const store = await freshStore(bench, `repeat-${i}`);
    const pair = await startPair(bench, store.env, `repeat-${i}`);
    const ctx = contextOf(pair, store.pool, client, bench.server.pid);
    const tourImport = await cleanImport(bench, ctx, 'full', 'bench');
    await stopWorkers(pair);
    repeats.push(repeatRun({ ceiling: best, legacy, plain, tourImport }));
    log(`repeat ${i}: tour-import ${tourImport.toursPerSec.toFixed(2)} tours/s`);
  }
  return size.repeat > 1 ? repeats : undefined;
}
