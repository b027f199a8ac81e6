/** The results file's sections for the full import's companions: API calls, delta, scale, scale-out, split, fairness. */
import { apiCallsPerTour, type ApiCallFigures } from './api-calls.js';
import { fmt } from './lib/stats.js';
import type { BenchReport, FairnessPhase } from './report.js';
import { ms, runs, throughputTable } from './report-tables.js';

/** What a full import costs each dialect's operator: the requests the simulator received, per route. */
export function apiCallsSection(rows: ApiCallFigures[]): string[] {
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

export function deltaSections(r: BenchReport): string[] {
  const L: string[] = [];
  const s = r.size;
  const dc = r.deltaCatalog;
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
  return L;
}

export function scaleSection(r: BenchReport): string[] {
  const L: string[] = [];
  const sc = r.scale;
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
  return L;
}

/** The full import's runs and histories, under the sections above. */
export function fullImportNote(r: BenchReport): string[] {
  const L: string[] = [];
  const ti = r.tourImport;
  if (ti?.runs) {
    const big = ti.runs.reduce((a, b) => (b.events > a.events ? b : a), ti.runs[0]);
    L.push(
      `Full import: ${ti.runs.length} ImportOperator run(s), largest history ${big?.events} events / ` +
        `${fmt((big?.bytes ?? 0) / 1024, 1)} KiB; ${ti.children} ImportTour children; simulator CPU ` +
        `${fmt(ti.simCpuMs / 1000, 1)} s; ${ti.counters.api} API calls, ${ti.downloads} image downloads.`,
      '',
    );
  }
  return L;
}

export function scaleOutSection(r: BenchReport): string[] {
  const L: string[] = [];
  const so = r.scaleOut;
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
  return L;
}

export function splitSection(r: BenchReport): string[] {
  const L: string[] = [];
  const sp = r.split;
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
  return L;
}

export function fairnessSection(r: BenchReport): string[] {
  const L: string[] = [];
  const s = r.size;
  const phases = r.fairness?.phases ?? [];
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
    L.push('', ...fairnessTimeTable(phases));
  }
  return L;
}

/** Where the small import's time went, per server setting: the parent's own time and its children's phases. */
function fairnessTimeTable(phases: FairnessPhase[]): string[] {
  const L: string[] = [];
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
  return L;
}

export function notYetMeasured(r: BenchReport): string[] {
  const L: string[] = [];
  const s = r.size;
  if (s.imageWidth * s.imageHeight < 24_000_000 && !r.rss24mp) {
    L.push('## Not yet measured', '');
    L.push(
      '- **24-megapixel RSS**: this run used the catalog size above; run `npm run bench -- --image-size 6000x4000 ' +
        '--tours 40 --skip legacy,plain,delta,scale,scale-out,fairness,split` (≈ 5 minutes) to measure the image ' +
        'worker at 24 MP.',
      '',
    );
  }
  return L;
}
