/** Cell formats and the throughput table, shared by every section of the results file. */
import type { CeilingProbe } from './ceiling.js';
import { fmt } from './lib/stats.js';
import type { PipelineFigures } from './report.js';

export const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${fmt(v, 0)} ms`);
/** A median in seconds, with every run it was taken from when there were several. */
export const runs = (median: number, all?: number[]) =>
  `${fmt(median / 1000, 1)} s${all && all.length > 1 ? ` (${all.map((v) => fmt(v / 1000, 1)).join(' / ')})` : ''}`;

/** The throughput table: the ceiling's best probe, then one row per pipeline run. */
export function throughputTable(
  ceiling: CeilingProbe | undefined,
  runs: (PipelineFigures | undefined)[],
): string[] {
  const L = [
    '| scenario | tours | wall | tours/s | image slots/s | resizes/s | downloads | p50 / p95 per tour | worker CPU / tour | server CPU / tour | PostgreSQL CPU / tour | peak RSS |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  if (ceiling)
    L.push(
      `| ceiling (raw sharp, UV=${ceiling.uvThreads}, sharp.concurrency ${ceiling.sharpConcurrency}, ${ceiling.inflight} in flight) | – | ` +
        `${fmt(ceiling.seconds, 1)} s / ${ceiling.images} images | – | – | **${fmt(ceiling.imagesPerSec)}** | – | – | ` +
        `${fmt(ceiling.cpuMsPerImage, 0)} ms / image | – | – | – |`,
    );
  for (const f of runs) {
    if (!f) continue;
    const rss = Object.entries(f.peakRssMb)
      .map(([k, v]) => `${k} ${fmt(v, 0)} MB`)
      .join(', ');
    const cpu = Object.entries(f.processCpuMs)
      .map(([k, v]) => `${k} ${fmt(f.tours ? v / f.tours : NaN, 1)}`)
      .join(' + ');
    L.push(
      `| ${f.name} | ${fmt(f.tours, 0)} | ${fmt(f.wallMs / 1000, 1)} s | **${fmt(f.toursPerSec)}** | ` +
        `${fmt(f.imageSlotsPerSec)} | ${fmt(f.resizesPerSec)} | ${fmt(f.downloads, 0)} (304: ${fmt(f.counters.image304, 0)}) | ` +
        `${ms(f.p50Ms)} / ${ms(f.p95Ms)} | ${cpu} ms | ${fmt(f.serverCpuMsPerTour, 1)} ms | ${fmt(f.pgCpuMsPerTour, 1)} ms | ${rss} |`,
    );
  }
  return L;
}
