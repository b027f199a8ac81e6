/**
 * `--repeat N`: scenarios 1-4 (ceiling, legacy, plain, the full import) run N times; each run's throughputs
 * and ratios are kept, and the report gives their medians and spread (lowest–highest).
 */
import type { CeilingProbe } from './ceiling.js';
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
