/** Turns one run's figures into bench/RESULTS.md. Text after the NOTES marker is kept across runs. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CeilingProbe } from './ceiling.js';
import { apiCallsPerTour, type ApiCallFigures } from './lib/api-calls.js';
import type { Counters } from './lib/sim-child.js';
import { fmt } from './lib/stats.js';
import { addedP50Ms, type LowLoadFigures } from './low-load.js';
import type { ManyOperatorsFigures } from './many-operators.js';
import { floorMsPerChild, type FloorFigures } from './floor.js';
import { orchestrationCpuMsPerTour, issue17Sections, pct } from './report-sections.js';
import { spread, type RepeatRun } from './repeat.js';
import type { Rss24mpFigures } from './rss-24mp.js';

export interface PipelineFigures {
  name: string;
  wallMs: number;
  tours: number;
  imageSlots: number;
  downloads: number;
  resizes: number;
  toursPerSec: number;
  imageSlotsPerSec: number;
  resizesPerSec: number;
  p50Ms: number;
  p95Ms: number;
  workerCpuMsPerTour: number;
  serverCpuMsPerTour: number;
  pgCpuMsPerTour: number;
  processCpuMs: Record<string, number>;
  peakRssMb: Record<string, number>;
  serverCpuMs: number;
  pgCpuMs: number;
  simCpuMs: number;
  counters: Counters;
  children?: number;
  listed?: number;
  unchanged?: number;
  runs?: { runId: string; events: number; bytes: number }[];
  timeline?: ImportTimeline;
  childPhases?: ChildTimings;
  [k: string]: unknown;
}

/** Per-child phases of a small import (milliseconds, p50 and p95 over its children). */
export interface ChildTimings {
  firstTaskWait: { p50: number; p95: number };
  firstTaskRun: { p50: number; p95: number };
  total: { p50: number; p95: number };
}

/** An import's time outside its tours, from the parent's history. */
export interface ImportTimeline {
  beforeFirstChildMs: number;
  afterLastChildMs: number;
  totalMs: number;
}

export interface BenchReport {
  runId: string;
  smoke: boolean;
  /** The Temporal server the scenarios ran on (`--server`); unset in reports from before the flag. */
  server?: string;
  size: Record<string, number>;
  machine: Record<string, string | number>;
  catalog: { tours: number; imageSlots: number; distinctImages: number; avgSourceKb: number };
  knobs: Record<string, string | number>;
  ceiling?: { probes: CeilingProbe[]; best: CeilingProbe };
  legacy?: PipelineFigures;
  plain?: PipelineFigures;
  tourImport?: PipelineFigures;
  /** Operator API calls of a full import of a small catalog of each dialect. */
  apiCalls?: ApiCallFigures[];
  delta?: DeltaFigures;
  /** The second delta catalog (`--delta-tours`): its full import, then the delta after 1 % changed. */
  deltaCatalog?: { full: PipelineFigures; delta: DeltaFigures };
  scale?: PipelineFigures & { pageSize: number };
  /** `single` is the one-process-per-kind full import of the same run, the scale-out's baseline. */
  scaleOut?: PipelineFigures & { check: ScaleOutCheck; problems: string[]; single: PipelineFigures };
  /** Set when scenarios 1-6 come from an earlier run (`--merge-from`). */
  merged?: { from: string; scenarios: string[]; runId: string; loadavg: string };
  fairness?: { bigTours: number; smallTours: number; images: number; phases: FairnessPhase[] };
  /** The image worker on a core of its own (`imageCpu`), all else on `restCpus`; ceiling and plain on that core. */
  split?: {
    imageCpu: string;
    restCpus: string;
    ceiling: { probes: CeilingProbe[]; best: CeilingProbe };
    plain: PipelineFigures;
    tourImport: PipelineFigures;
  };
  /** `--repeat N`: scenarios 1-4 of every run (the first is the one the tables show). */
  repeats?: RepeatRun[];
  lowLoad?: LowLoadFigures;
  manyOperators?: ManyOperatorsFigures;
  rss24mp?: Rss24mpFigures;
  floor?: FloorFigures;
}

export type DeltaFigures = PipelineFigures & { changedTours: number; changedImages: number };

/** What the scale-out scenario counted to show that no tour or image was done twice and none was lost. */
export interface ScaleOutCheck {
  catalogTours: number;
  tourRows: number;
  done: number;
  failed: number;
  childExecutions: number;
  distinctChildIds: number;
  imageSlots: number;
  assetRows: number;
  readyAssets: number;
  distinctSha: number;
  variantRows: number;
  variantShas: number;
  originals: number;
  downloads: number;
  distinctImages: number;
  /** "tour persisted" log lines per worker process (tour-import: persistTour; image-processing: importTourImages). */
  persistedBy: Record<string, number>;
}

/** The small operator's import alone and while the big one runs, on a server with fairness off or on. */
export interface FairnessPhase {
  setting: 'off' | 'on';
  /** Medians of `aloneRunsMs` and `togetherRunsMs`. */
  aloneMs: number;
  togetherMs: number;
  ratio: number;
  aloneRunsMs?: number[];
  togetherRunsMs?: number[];
  aloneP95Ms: number;
  togetherP95Ms: number;
  bigToursPerSecDuring: number;
  bigStillRunning: boolean;
  /** `makeRoom` signals the big import received (one per small import that asked it to make room). */
  roomRequests?: number;
  alone: PipelineFigures;
  together: PipelineFigures;
}

/** An earlier run's scenarios 1-6 with this run's scale-out and fairness (each compared within its own run). */
export function mergeReports(old: BenchReport, now: BenchReport): BenchReport {
  const added = (['apiCalls', 'scaleOut', 'fairness', 'split'] as const).filter((k) => now[k]);
  const label = { apiCalls: 'api-calls', scaleOut: 'scale-out', fairness: 'fairness', split: 'split' };
  return {
    ...old,
    // Counts, not timings: the earlier run's stand when this run did not count them.
    apiCalls: now.apiCalls ?? old.apiCalls,
    scaleOut: now.scaleOut,
    fairness: now.fairness,
    split: now.split,
    merged: {
      from: old.runId,
      scenarios: added.map((k) => label[k]),
      runId: now.runId,
      loadavg: String(now.machine.loadavg),
    },
  };
}

export const NOTES_MARKER =
  '<!-- notes: everything below this line is kept when the bench rewrites this file -->';

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${fmt(v, 0)} ms`);
/** A median in seconds, with every run it was taken from when there were several. */
const runs = (median: number, all?: number[]) =>
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

/** What a full import costs each dialect's operator: the requests the simulator received, per route. */
function apiCallsSection(rows: ApiCallFigures[]): string[] {
  return [
    '## Operator API calls per full import',
    '',
    'A catalog of each dialect (1 image per tour) imported in full by the product; the simulator counts the ' +
      'requests on its list, detail and image routes. Calls per tour = (list + detail) ÷ tours, what a full ' +
      "import costs the operator's API quota; image requests are counted apart.",
    '',
    '| dialect | tours | list calls | detail calls | image calls | calls per tour |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (f) =>
        `| ${f.dialect} | ${f.tours} | ${f.list} | ${f.detail} | ${f.image} | **${fmt(apiCallsPerTour(f), 2)}** |`,
    ),
  ];
}

/**
 * Puts `lines` into the kept notes of a results file (below NOTES_MARKER) as the section `id`, in place
 * of that section's earlier text: full runs rewrite everything above the marker and keep it.
 */
export function writeKeptSection(file: string, id: string, lines: string[]): void {
  const [begin, end] = [`<!-- ${id}: begin -->`, `<!-- ${id}: end -->`];
  const section = [begin, ...lines, end].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!text.includes(NOTES_MARKER)) text = `${text.trimEnd()}\n\n${NOTES_MARKER}\n`;
  const [at, to] = [text.indexOf(begin), text.indexOf(end)];
  text =
    at >= 0 && to > at
      ? `${text.slice(0, at)}${section}${text.slice(to + end.length)}`
      : `${text.slice(0, text.indexOf(NOTES_MARKER) + NOTES_MARKER.length)}\n\n${section}\n${text.slice(text.indexOf(NOTES_MARKER) + NOTES_MARKER.length)}`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${text.trimEnd()}\n`);
}

export function writeResults(file: string, r: BenchReport): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = previous.includes(NOTES_MARKER)
    ? previous.slice(previous.indexOf(NOTES_MARKER))
    : NOTES_MARKER;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${render(r)}\n${notes.trimEnd()}\n`);
}

function render(r: BenchReport): string {
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

  L.push('## Ratios and targets', '');
  L.push('| ratio | measured | target | met? |');
  L.push('|---|---|---|---|');
  /** A ratio row; `note` follows the figure in its cell; no `ok` means no target on this machine. */
  const row = (
    name: string,
    v: number | undefined,
    target: string,
    ok?: (v: number) => boolean,
    note = '',
  ) => {
    const measured = v !== undefined && Number.isFinite(v);
    const met = !measured ? 'not measured' : !ok ? '–' : ok(v) ? 'yes' : '**no**';
    L.push(`| ${name} | ${measured ? `${fmt(v, 3)}${note}` : 'n/a'} | ${target} | ${met} |`);
  };
  const ti = r.tourImport;
  /** With `--repeat`, the ratios of scenarios 1-4 are the medians of the runs, their spread beside them. */
  const repeated = (key: 'overCeiling' | 'overLegacy' | 'overPlain', single: number | undefined) => {
    const sp = r.repeats && r.repeats.length > 1 ? spread(r.repeats, key) : undefined;
    return sp
      ? ([sp.median, ` (median of ${sp.runs.length}; ${fmt(sp.min, 3)}–${fmt(sp.max, 3)})`] as const)
      : ([single, ''] as const);
  };
  const ratio = (
    name: string,
    key: 'overCeiling' | 'overLegacy' | 'overPlain',
    single: number | undefined,
    target: string,
    ok: (v: number) => boolean,
  ) => {
    const [v, note] = repeated(key, single);
    row(name, v, target, ok, note);
  };
  ratio(
    'tour-import ÷ ceiling (resizes/s)',
    'overCeiling',
    ti && r.ceiling && ti.resizesPerSec / r.ceiling.best.imagesPerSec,
    '≥ 0.85',
    (v) => v >= 0.85,
  );
  ratio(
    'tour-import ÷ legacy (tours/s)',
    'overLegacy',
    ti && r.legacy && ti.toursPerSec / r.legacy.toursPerSec,
    '≥ 5',
    (v) => v >= 5,
  );
  ratio(
    'tour-import ÷ plain (tours/s)',
    'overPlain',
    ti && r.plain && ti.toursPerSec / r.plain.toursPerSec,
    '≥ 0.9',
    (v) => v >= 0.9,
  );
  row(
    'orchestration CPU per changed tour, ms',
    ti && orchestrationCpuMsPerTour(ti),
    '≤ 25',
    (v) => v <= 25,
    ' (tour worker + Temporal server + PostgreSQL, full import)',
  );
  row(
    'orchestration floor per child, ms (Temporal server + workflow worker; no-op child, one no-op activity)',
    r.floor && floorMsPerChild(r.floor.oneActivity),
    '– (what no change inside the workflows goes below)',
  );
  const ll = r.lowLoad;
  row(
    'added latency per tour vs plain at low load, p50 ms',
    ll && addedP50Ms(ll),
    '≤ 60',
    (v) => v <= 60,
    ll ? ` (CPU busy: plain ${pct(ll.plainBusy)}, tour-import ${pct(ll.tourImportBusy)})` : '',
  );
  const mo = r.manyOperators;
  row(
    'many operators ÷ plain (tours/s)',
    mo && mo.tourImport.toursPerSec / mo.plain.toursPerSec,
    '≥ 0.88',
    (v) => v >= 0.88,
  );
  row(
    'many operators ÷ ceiling (resizes/s)',
    mo && r.ceiling && mo.tourImport.resizesPerSec / r.ceiling.best.imagesPerSec,
    '– (none on this machine)',
  );
  const big = r.rss24mp;
  row(
    'image worker peak RSS at 24 MP, MB',
    big?.peakRssMb,
    '≤ 512',
    (v) => v <= 512,
    (big && big.width * big.height < 24_000_000 ? ` (${big.width}×${big.height} sources, not 24 MP)` : '') +
      (big && !big.defaults ? ' (**not** the defaults: image-worker knobs were given)' : ''),
  );
  row(
    `delta time ÷ full time, ${r.catalog.tours}-tour catalog`,
    ti && r.delta && r.delta.wallMs / ti.wallMs,
    '≤ 0.05',
    (v) => v <= 0.05,
  );
  const dc = r.deltaCatalog;
  row(
    `delta time ÷ full time, ${fmt(s.deltaTours, 0)}-tour catalog (${s.deltaImages} images per tour)`,
    dc && dc.delta.wallMs / dc.full.wallMs,
    '≤ 0.05',
    (v) => v <= 0.05,
  );
  row(
    'delta image downloads ÷ changed images',
    r.delta && (r.delta.changedImages ? r.delta.downloads / r.delta.changedImages : NaN),
    '≤ 1.05',
    (v) => v <= 1.05,
  );
  const rssImage = ti?.peakRssMb['image-processing'];
  row(
    `image worker peak RSS, MB (${s.imageWidth}×${s.imageHeight} sources${
      s.imageWidth * s.imageHeight >= 24_000_000 ? '' : ', not 24 MP'
    })`,
    rssImage,
    '≤ 512 MB at 24 MP',
    (v) => v <= 512,
  );
  const sc = r.scale;
  const orch = sc
    ? (sc.processCpuMs['tour-import'] + sc.serverCpuMs) / Math.max(1, sc.unchanged ?? sc.listed ?? 1)
    : undefined;
  row('orchestration CPU per unchanged tour, ms (worker + Temporal server)', orch, '≤ 5 ms', (v) => v <= 5);
  const so = r.scaleOut;
  row(
    'scale-out (2 + 2 processes) ÷ single, same run (tours/s)',
    so && so.toursPerSec / so.single.toursPerSec,
    '> 1 with more cores',
    (v) => v > 1,
  );
  row(
    'scale-out: work done twice or lost (count of failed checks)',
    so && so.problems.length,
    '0',
    (v) => v === 0,
  );
  const sp = r.split;
  row(
    'split — image worker on a core of its own ÷ ceiling on that core (resizes/s)',
    sp && sp.tourImport.resizesPerSec / sp.ceiling.best.imagesPerSec,
    '≥ 0.85 (as on separate hosts)',
    (v) => v >= 0.85,
  );
  row(
    'split — the same ÷ plain on that core (tours/s)',
    sp && sp.tourImport.toursPerSec / sp.plain.toursPerSec,
    '≥ 0.9 (as on separate hosts)',
    (v) => v >= 0.9,
  );
  const phases = r.fairness?.phases ?? [];
  if (!phases.length) L.push('| fairness: small operator ÷ alone | n/a | ≤ 1.5 | not measured |');
  for (const p of phases)
    if (p.setting === 'on')
      row(
        'fairness: small operator with big ÷ alone (wall), product server (fairness on, per-operator keys)',
        p.ratio,
        '≤ 1.5',
        (v) => v <= 1.5,
      );
    else
      L.push(
        `| fairness, for comparison: the same on Temporal's default server (fairness off) | ${fmt(p.ratio, 3)} | – | – |`,
      );
  L.push('');

  if (r.apiCalls) L.push(...apiCallsSection(r.apiCalls), '');

  if (r.delta) {
    const d = r.delta;
    L.push('## Delta', '');
    L.push(
      `${d.changedTours} tours changed (1 %), each with its first image replaced under a new URL ` +
        `(${d.changedImages} changed images). Delta import: ${fmt(d.wallMs / 1000, 2)} s, listed ${d.listed}, ` +
        `${d.children} ImportTour children, ${d.downloads} image downloads (200) and ${d.counters.image304} conditional ` +
        `GETs answered 304, ${d.resizes} resizes, ${d.counters.api} API calls.`,
      '',
    );
  }
  if (dc) {
    const [f, d] = [dc.full, dc.delta];
    L.push(
      `The ${fmt(f.tours, 0)}-tour catalog (${s.deltaImages} images per tour): full import ${fmt(f.wallMs / 1000, 1)} s ` +
        `(${f.runs?.length ?? 1} ImportOperator runs, ${f.children} children, ${f.counters.api} API calls); then ` +
        `${d.changedTours} tours changed (1 %, ${d.changedImages} changed images) and the delta import took ` +
        `${fmt(d.wallMs / 1000, 2)} s: listed ${d.listed}, ${d.children} ImportTour children, ${d.downloads} image ` +
        `downloads, ${d.counters.api} API calls.` +
        (s.deltaImages === 0
          ? ' Without images the full import is as short as it can be, so this ratio is the hard case; with ' +
            'images both grow, the full import by far more.'
          : ''),
      '',
    );
  }
  if (sc) {
    L.push('## Scale (listing and deciding)', '');
    const runs = sc.runs ?? [];
    const largest = runs.reduce((a, b) => (b.events > a.events ? b : a), runs[0] ?? { events: 0, bytes: 0 });
    L.push(
      `${fmt(sc.listed ?? 0, 0)} tours listed in pages of ${sc.pageSize}, all already imported and unchanged ` +
        `(${fmt(sc.unchanged ?? 0, 0)} unchanged, ${sc.children} children started) in ${fmt(sc.wallMs / 1000, 1)} s ` +
        `(${fmt((sc.listed ?? 0) / (sc.wallMs / 1000), 0)} tours/s). Runs: ${runs.length} ` +
        `(continue-as-new ${Math.max(0, runs.length - 1)} times); largest history ${largest.events} events, ` +
        `${fmt(largest.bytes / 1024, 1)} KiB. CPU: tour worker ${fmt(sc.processCpuMs['tour-import'] / 1000, 1)} s, ` +
        `Temporal server ${fmt(sc.serverCpuMs / 1000, 1)} s, PostgreSQL ${fmt(sc.pgCpuMs / 1000, 1)} s, ` +
        `simulator ${fmt(sc.simCpuMs / 1000, 1)} s.`,
      '',
    );
  }
  if (ti?.runs) {
    const big = ti.runs.reduce((a, b) => (b.events > a.events ? b : a), ti.runs[0]);
    L.push(
      `Full import: ${ti.runs.length} ImportOperator run(s), largest history ${big?.events} events / ` +
        `${fmt((big?.bytes ?? 0) / 1024, 1)} KiB; ${ti.children} ImportTour children; simulator CPU ` +
        `${fmt(ti.simCpuMs / 1000, 1)} s; ${ti.counters.api} API calls, ${ti.downloads} image downloads.`,
      '',
    );
  }
  if (so) {
    const c = so.check;
    L.push('## Scale-out (two processes of each worker kind)', '');
    L.push(
      `The same full import of ${c.catalogTours} tours on a fresh schema and blob folder, with two tour-import and ` +
        `two image-processing worker processes polling the same task queues (as two hosts would): ` +
        `${fmt(so.wallMs / 1000, 1)} s, **${fmt(so.toursPerSec)} tours/s** against ${fmt(so.single.toursPerSec)} ` +
        `with one process of each in the same run (${fmt(so.single.wallMs / 1000, 1)} s; ` +
        `×${fmt(so.toursPerSec / so.single.toursPerSec, 2)}). Image downloads: ${so.downloads} (304: ` +
        `${so.counters.image304}) against ${so.single.downloads} (304: ${so.single.counters.image304}) single.`,
      '',
    );
    L.push('| process | CPU over the import | tours persisted (log) |');
    L.push('|---|---|---|');
    for (const [k, v] of Object.entries(so.processCpuMs))
      L.push(`| ${k} | ${fmt(v / 1000, 1)} s | ${c.persistedBy[k] ?? '–'} |`);
    L.push('');
    L.push(
      `Checks: tours rows ${c.tourRows} (catalog ${c.catalogTours}); done ${c.done}, failed ${c.failed}; ` +
        `ImportTour executions ${c.childExecutions} for ${c.distinctChildIds} workflow ids; tour_assets rows ` +
        `${c.assetRows} (${c.readyAssets} ready) for ${c.imageSlots} image slots; asset_variants rows ${c.variantRows} ` +
        `= 6 × ${c.variantShas} (distinct sha256 referenced: ${c.distinctSha}); original blobs ${c.originals}; ` +
        `image downloads ${c.downloads} for ${c.distinctImages} distinct images. ` +
        (so.problems.length
          ? `**Problems: ${so.problems.join('; ')}.**`
          : '**Nothing done twice, nothing lost.**'),
      '',
    );
  }
  if (sp) {
    const t = sp.tourImport;
    const busy = (cpuMs: number) => `${fmt((cpuMs / t.wallMs) * 100, 0)} %`;
    L.push('## Split (the image worker on a core of its own)', '');
    L.push(
      `The same full import on a fresh schema and blob folder, with the image worker pinned to CPU ${sp.imageCpu} ` +
        `(taskset) and the Temporal server, PostgreSQL, the simulator, the tour worker and the bench on ` +
        `CPU ${sp.restCpus} — the shape separate hosts give it (docker-compose.yml gives image workers their own service and CPU limit). The ` +
        `ceiling and plain ran on CPU ${sp.imageCpu} alone, with the rest where it was. CPU ${sp.imageCpu} was ` +
        `busy ${busy(t.processCpuMs['image-processing'] ?? 0)} of the import with the image worker; CPU ` +
        `${sp.restCpus} ${busy((t.processCpuMs['tour-import'] ?? 0) + t.serverCpuMs + t.pgCpuMs + t.simCpuMs)} with ` +
        `the tour worker, server, PostgreSQL and simulator.`,
      '',
    );
    L.push(...throughputTable(sp.ceiling.best, [sp.plain, t]), '');
  }
  if (phases.length) {
    const f = r.fairness!;
    L.push('## Fairness (a big and a small operator at once)', '');
    L.push(
      `Small operator: ${f.smallTours} tours; big operator: ${fmt(f.bigTours, 0)} tours; ${f.images} image(s) per ` +
        `tour; window ${s.window} each. The small catalog is imported alone, then (fresh copies) after the big ` +
        `import has finished one window of tours; the big import is terminated once the small one is done. ` +
        `Each side is the median of ${phases[0].aloneRunsMs?.length ?? 1} import(s) (all listed). ` +
        `"on" is the server as the product runs it (\`matching.enableFairness=true\`; every task of an ` +
        `operator's import carries \`fairnessKey\` = operator id); "off" is a second dev server in Temporal's ` +
        `default configuration, where the keys are ignored. On both, a small import asks the big one to ` +
        `make room (docs/architecture.md, "Small imports go first"); the last column counts the requests the big one got.`,
      '',
    );
    L.push(
      '| server fairness | small alone | small with big | ratio | p95 per tour alone / with big | big tours/s meanwhile | room requests |',
    );
    L.push('|---|---|---|---|---|---|---|');
    for (const p of phases)
      L.push(
        `| ${p.setting} | ${runs(p.aloneMs, p.aloneRunsMs)} | ${runs(p.togetherMs, p.togetherRunsMs)} | **${fmt(p.ratio, 2)}** | ` +
          `${ms(p.aloneP95Ms)} / ${ms(p.togetherP95Ms)} | ${fmt(p.bigToursPerSecDuring, 1)}${
            p.bigStillRunning ? '' : ' (finished first)'
          } | ${p.roomRequests ?? '–'} |`,
      );
    L.push('');
    L.push(
      "Where the small import's time goes (median import of each side, alone / with big): the parent before its " +
        'first child (begin, first listing page) and after its last one (finish); per child (p50 / p95), ' +
        "the wait for its first workflow task (dispatch from the task queue) and that task's run (fetch and " +
        'persist as local activities).',
      '',
      '| server fairness | before first child | after last child | child first task wait | child first task run | child in all |',
      '|---|---|---|---|---|---|',
    );
    const pair = (a?: { p50: number; p95: number }) => (a ? `${ms(a.p50)} / ${ms(a.p95)}` : 'n/a');
    for (const p of phases) {
      const [a, t] = [p.alone, p.together];
      L.push(
        `| ${p.setting} | ${ms(a.timeline?.beforeFirstChildMs)} / ${ms(t.timeline?.beforeFirstChildMs)} | ` +
          `${ms(a.timeline?.afterLastChildMs)} / ${ms(t.timeline?.afterLastChildMs)} | ` +
          `${pair(a.childPhases?.firstTaskWait)} → ${pair(t.childPhases?.firstTaskWait)} | ` +
          `${pair(a.childPhases?.firstTaskRun)} → ${pair(t.childPhases?.firstTaskRun)} | ` +
          `${pair(a.childPhases?.total)} → ${pair(t.childPhases?.total)} |`,
      );
    }
    L.push('');
  }
  L.push(...issue17Sections(r));
  if (s.imageWidth * s.imageHeight < 24_000_000 && !r.rss24mp) {
    L.push('## Not yet measured', '');
    L.push(
      '- **24-megapixel RSS**: this run used the catalog size above; run `npm run bench -- --image-size 6000x4000 ' +
        '--tours 40 --skip legacy,plain,delta,scale,scale-out,fairness,split` (≈ 5 minutes) to measure the image ' +
        'worker at 24 MP.',
      '',
    );
  }
  return L.join('\n');
}
