/** The results file's opening sections: the run, the machine, the workload, throughput and the ceiling probes. */
import { fmt } from './lib/stats.js';
import type { BenchReport } from './report.js';
import { throughputTable } from './report-tables.js';

/** The title, the run (and what was merged into it), the machine and the workload. */
export function runSections(r: BenchReport): string[] {
  const L: string[] = [];
  const m = r.machine;
  L.push(`# Benchmark results${r.smoke ? ' (smoke run — sizes too small to judge)' : ''}`, '');
  L.push(`Run \`${r.runId}\` of \`npm run bench${r.smoke ? ' -- --smoke' : ''}\`.`, '');
  if (r.merged)
    L.push(
      `Scenarios ${r.merged.scenarios.join(' and ')} from run \`${r.merged.runId}\` (same machine; load average ` +
        `${r.merged.loadavg}), merged with \`--merge-from\`; each compares only with figures of its own run.`,
      '',
    );
  L.push('## Machine', '');
  L.push(`- CPU: ${m.cpu}, nproc ${m.nproc}; RAM ${fmt(Number(m.ramGb), 1)} GB; kernel ${m.kernel}`);
  L.push(`- Node ${m.node}; sharp ${m.sharp}; ${r.server ?? `${m.temporal} (dev server, SQLite in memory)`}`);
  L.push(
    `- PostgreSQL, the Temporal server, the simulator and all workers share these cores. Load average ` +
      `(1/5/15 min): ${m.loadavg ?? 'not recorded'} — anything else running on the machine skews every figure.`,
    '',
  );
  L.push('## Workload', '');
  const s = r.size;
  L.push(
    `- Catalog: ${r.catalog.tours} tours × ${s.images} images of ${s.imageWidth}×${s.imageHeight} JPEG ` +
      `(${r.catalog.imageSlots} image slots, ${r.catalog.distinctImages} distinct images — the simulator's ` +
      `catalogs share photos between tours; avg ${fmt(r.catalog.avgSourceKb, 0)} KiB).`,
  );
  L.push(`- Outputs: 1200/600/200 px × jpeg/webp (6 variants per source), every scenario.`);
  L.push(
    `- Simulated operator latency: ${s.apiMs} ms per API call, ${s.imageMs} ms per image; dialect A (cursor feed).`,
  );
  L.push(
    `- Legacy processes the first ${s.legacyTours} tours only (it is sequential; its rate is steady, so a ` +
      `prefix measures it). Second delta catalog: ${fmt(s.deltaTours, 0)} tours, ${s.deltaImages} images. ` +
      `Scale: ${fmt(s.scaleTours, 0)} tours, 0 images.`,
  );
  L.push(
    `- Product knobs in this run: ${Object.entries(r.knobs)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}.`,
    '',
  );
  return L;
}

/** Every pipeline's row, beside the ceiling's best probe, and how to read them. */
export function throughputSection(r: BenchReport): string[] {
  const L: string[] = [];
  L.push('## Throughput', '');
  L.push(
    ...throughputTable(r.ceiling?.best, [
      r.legacy,
      r.plain,
      r.tourImport,
      r.delta,
      r.deltaCatalog?.full,
      r.deltaCatalog?.delta,
      r.scale,
      r.scaleOut,
    ]),
    '',
  );
  L.push(
    'image slots/s = tour images handled per second; resizes/s = distinct sources resized per second (what the ' +
      'ceiling measures). Legacy resizes every slot (no dedup); plain and tour-import resize each distinct source once. ' +
      "Per-tour latency: legacy and plain from the start of a tour's processing to its database write; tour-import " +
      'from ImportTour child start to close (visibility). CPU from /proc (utime+stime) of the worker process trees, the ' +
      'Temporal server and all `postgres` processes, over the scenario only; peak RSS is VmHWM reset before the scenario.',
    '',
  );
  return L;
}

export function ceilingProbesSection(r: BenchReport): string[] {
  const L: string[] = [];
  if (r.ceiling) {
    L.push('### Ceiling probes', '');
    L.push('| UV_THREADPOOL_SIZE | sharp.concurrency | images in flight | images/s | CPU ms / image |');
    L.push('|---|---|---|---|---|');
    for (const p of r.ceiling.probes)
      L.push(
        `| ${p.uvThreads} | ${p.sharpConcurrency} | ${p.inflight} | ${fmt(p.imagesPerSec)} | ${fmt(p.cpuMsPerImage, 0)} |`,
      );
    L.push('');
  }
  return L;
}
