import type { PipelineFigures } from '../report.js';
import type { JobResult } from './common.js';
import { percentile } from './stats.js';

/** A scenario's figures: its job result per second and per tour, with the CPU and RSS measured around it. */
export function figures(
  name: string,
  r: JobResult,
  extra: Pick<
    PipelineFigures,
    'processCpuMs' | 'peakRssMb' | 'serverCpuMs' | 'pgCpuMs' | 'simCpuMs' | 'counters'
  > & { [k: string]: unknown },
): PipelineFigures {
  const s = r.wallMs / 1000;
  const workerCpu = Object.values(extra.processCpuMs).reduce((a, b) => a + b, 0);
  return {
    name,
    ...extra,
    wallMs: r.wallMs,
    tours: r.tours,
    imageSlots: r.imageSlots,
    downloads: r.downloads,
    resizes: r.resizes,
    toursPerSec: r.tours / s,
    imageSlotsPerSec: r.imageSlots / s,
    resizesPerSec: r.resizes / s,
    p50Ms: percentile(r.latenciesMs, 50),
    p95Ms: percentile(r.latenciesMs, 95),
    workerCpuMsPerTour: r.tours ? workerCpu / r.tours : NaN,
    serverCpuMsPerTour: r.tours ? extra.serverCpuMs / r.tours : NaN,
    pgCpuMsPerTour: r.tours ? extra.pgCpuMs / r.tours : NaN,
  };
}
