/** The results file's table of ratios and targets, one group of rows per scenario family. */
import { floorMsPerChild } from './floor.js';
import { fmt } from './lib/stats.js';
import { addedP50Ms } from './low-load.js';
import { spread } from './repeat.js';
import type { BenchReport } from './report.js';
import { orchestrationCpuMsPerTour, pct } from './report-sections.js';

type RatioKey = 'overCeiling' | 'overLegacy' | 'overPlain';

export function ratiosSection(r: BenchReport): string[] {
  return [
    '## Ratios and targets',
    '',
    '| ratio | measured | target | met? |',
    '|---|---|---|---|',
    ...throughputRatios(r),
    ...issue17Ratios(r),
    ...deltaRatios(r),
    ...scaleRatios(r),
    ...fairnessRatios(r),
    '',
  ];
}

/** A function that adds a ratio row to `L`; `note` follows the figure in its cell; no `ok` means no target on this machine. */
function rowInto(L: string[]) {
  return (name: string, v: number | undefined, target: string, ok?: (v: number) => boolean, note = '') => {
    const measured = v !== undefined && Number.isFinite(v);
    const met = !measured ? 'not measured' : !ok ? '–' : ok(v) ? 'yes' : '**no**';
    L.push(`| ${name} | ${measured ? `${fmt(v, 3)}${note}` : 'n/a'} | ${target} | ${met} |`);
  };
}

/** With `--repeat`, the ratios of scenarios 1-4 are the medians of the runs, their spread beside them. */
function repeated(r: BenchReport, key: RatioKey, single: number | undefined) {
  const sp = r.repeats && r.repeats.length > 1 ? spread(r.repeats, key) : undefined;
  return sp
    ? ([sp.median, ` (median of ${sp.runs.length}; ${fmt(sp.min, 3)}–${fmt(sp.max, 3)})`] as const)
    : ([single, ''] as const);
}

/** Tour-import against the ceiling, legacy and plain (scenarios 1-4). */
function throughputRatios(r: BenchReport): string[] {
  const L: string[] = [];
  const row = rowInto(L);
  const ti = r.tourImport;
  const ratio = (
    name: string,
    key: RatioKey,
    single: number | undefined,
    target: string,
    ok: (v: number) => boolean,
  ) => {
    const [v, note] = repeated(r, key, single);
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
  return L;
}

/** The targets of issue 17: orchestration CPU and its floor, low load, many operators, 24 MP. */
function issue17Ratios(r: BenchReport): string[] {
  const L: string[] = [];
  const row = rowInto(L);
  const ti = r.tourImport;
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
  return L;
}

function deltaRatios(r: BenchReport): string[] {
  const L: string[] = [];
  const row = rowInto(L);
  const ti = r.tourImport;
  const s = r.size;
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
  return L;
}

/** Scale, scale-out and split. */
function scaleRatios(r: BenchReport): string[] {
  const L: string[] = [];
  const row = rowInto(L);
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
  return L;
}

function fairnessRatios(r: BenchReport): string[] {
  const L: string[] = [];
  const row = rowInto(L);
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
  return L;
}
