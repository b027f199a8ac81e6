/** The results file's sections for the scenarios of issue 17: low load, many operators, 24 MP, --repeat. */
import { floorMsPerChild, type FloorRun } from './floor.js';
import { fmt } from './lib/stats.js';
import { addedP50Ms } from './low-load.js';
import { spread, type RepeatRun } from './repeat.js';
import type { BenchReport, PipelineFigures } from './report.js';
import { ms, throughputTable } from './report-tables.js';

export const pct = (v: number) => `${fmt(v * 100, 0)} %`;

/** Tour worker + Temporal server + PostgreSQL CPU per tour of an import (every tour changed in a full one). */
export function orchestrationCpuMsPerTour(f: PipelineFigures): number {
  return ((f.processCpuMs['tour-import'] ?? 0) + f.serverCpuMs + f.pgCpuMs) / f.tours;
}

export function issue17Sections(r: BenchReport): string[] {
  return [
    ...orchestrationCpuSection(r),
    ...floorSection(r),
    ...lowLoadSection(r),
    ...manyOperatorsSection(r),
    ...rss24mpSection(r),
    ...(r.repeats && r.repeats.length > 1 ? repeatsSection(r.repeats) : []),
  ];
}

function orchestrationCpuSection(r: BenchReport): string[] {
  const L: string[] = [];
  const ti = r.tourImport;
  if (ti) {
    const per = (v: number) => `${fmt(v / ti.tours, 1)} ms`;
    L.push(
      '## Orchestration CPU per changed tour',
      '',
      `Full import of ${ti.tours} tours (all new): tour worker ${per(ti.processCpuMs['tour-import'] ?? 0)} + ` +
        `Temporal server ${per(ti.serverCpuMs)} + PostgreSQL ${per(ti.pgCpuMs)} = ` +
        `**${fmt(orchestrationCpuMsPerTour(ti), 1)} ms** per tour, beside the image worker's ` +
        `${per(ti.processCpuMs['image-processing'] ?? 0)}. PostgreSQL is every \`postgres\` process over the ` +
        'import (other sessions using the same cluster count too).',
      '',
    );
  }
  return L;
}

function floorSection(r: BenchReport): string[] {
  const L: string[] = [];
  const fl = r.floor;
  if (fl) {
    const run = (f: FloorRun) =>
      `server ${fmt(f.serverMs, 1)} + workflow worker ${fmt(f.workflowWorkerMs, 1)} = ` +
      `**${fmt(floorMsPerChild(f), 1)} ms**`;
    L.push(
      '## Orchestration floor',
      '',
      `A parent starting ${fl.oneActivity.children} children (window ${fl.oneActivity.window}), each running one ` +
        'no-op activity on another queue, nothing else (bench/floor/workflows.ts): the shape of ImportOperator ' +
        `and ImportTour without their work. CPU per child: ${run(fl.oneActivity)}; with two local activities ` +
        `around the activity (ImportTour's fetch and persist before #17): ${run(fl.withLocalActivities)}. ` +
        'No change inside the workflows takes the orchestration CPU per tour below the first figure on this ' +
        'server and machine; only fewer workflows or activities per tour would (each changed tour stays an ' +
        'ImportTour of its own).',
      '',
    );
  }
  return L;
}

function lowLoadSection(r: BenchReport): string[] {
  const L: string[] = [];
  const ll = r.lowLoad;
  if (ll)
    L.push(
      '## Low load (one operator, window 2)',
      '',
      `${ll.tours} tours × ${ll.images} images of a catalog of its own, window ${ll.window}: neither pipeline ` +
        'should saturate the machine, so the per-tour latency the durable path adds shows apart from CPU ' +
        "contention. Plain: a tour's processing start to its database write; tour-import: ImportTour child " +
        `start to close. CPU busy share of the whole machine (/proc/stat, every process) while each ran: ` +
        `plain ${pct(ll.plainBusy)}, tour-import ${pct(ll.tourImportBusy)}. p50 added per tour: ` +
        `**${fmt(addedP50Ms(ll), 0)} ms**.`,
      ...childPhasesLine(ll.tourImport),
      '',
      ...throughputTable(undefined, [ll.plain, ll.tourImport]),
      '',
    );
  return L;
}

/** Where an ImportTour's time went, phase by phase (p50 over the children, from their histories). */
function childPhasesLine(f: PipelineFigures): string[] {
  const c = f.childPhases;
  if (!c?.activityRun) return [];
  const p50 = (v?: { p50: number }) => ms(v?.p50);
  return [
    '',
    `Where an ImportTour's time goes (p50 of each phase over its children, from their histories): waiting for ` +
      `its first workflow task ${p50(c.firstTaskWait)}, running it (the fetch, a local activity) ` +
      `${p50(c.firstTaskRun)}, its images' activity waiting for an image worker ${p50(c.activityWait)} and ` +
      `running (downloads, resizes, the persist) ${p50(c.activityRun)}, then closing ${p50(c.afterActivity)}; ` +
      `start to close ${p50(c.total)}.`,
  ];
}

function manyOperatorsSection(r: BenchReport): string[] {
  const L: string[] = [];
  const mo = r.manyOperators;
  if (mo)
    L.push(
      '## Many operators at once',
      '',
      `${mo.operators} operators × ${mo.tours} tours × ${mo.images} images (a catalog each, no photos shared ` +
        `between them), all imports started at once, each within its own window of ${mo.window}; plain imports ` +
        `the same ${mo.operators} catalogs concurrently in one process (a window of ${mo.window} each, resizes ` +
        `at the ceiling's best probe). CPU busy share of the machine: plain ${pct(mo.plainBusy)}, tour-import ` +
        `${pct(mo.tourImportBusy)}. Tour-import ÷ plain: **${fmt(mo.tourImport.toursPerSec / mo.plain.toursPerSec, 3)}** ` +
        `(tours/s); orchestration CPU per tour here ${fmt(orchestrationCpuMsPerTour(mo.tourImport), 1)} ms.`,
      '',
      ...throughputTable(undefined, [mo.plain, mo.tourImport]),
      '',
    );
  return L;
}

function rss24mpSection(r: BenchReport): string[] {
  const L: string[] = [];
  const big = r.rss24mp;
  if (big) {
    const z = big.sizing ?? {};
    L.push(
      '## Image worker at 24 MP',
      '',
      `${big.tours} tours × ${big.images} images of ${big.width}×${big.height} JPEG, imported in full by the image worker ` +
        `${big.defaults ? 'with its defaults' : 'with the knobs given to this run (not its defaults)'}` +
        (big.sizing
          ? ` (it sized itself: ${z['maxResizes']} resizes, libuv pool ${z['threadPoolSize']}, memory ` +
            `${z['memoryMb']} MB from ${z['memoryFrom']}, pixel budget ${fmt(Number(z['pixelBudget']) / 1e6, 1)} MP, ` +
            `${z['cores']} cores)`
          : '') +
        `: peak RSS (VmHWM, reset before the import) **${fmt(big.peakRssMb, 0)} MB**; ` +
        `${fmt(big.import.resizesPerSec, 2)} resizes/s.`,
      '',
    );
  }
  return L;
}

function repeatsSection(runs: RepeatRun[]): string[] {
  const rows: [string, keyof RepeatRun, number][] = [
    ['ceiling, images/s', 'ceiling', 2],
    ['legacy, tours/s', 'legacy', 2],
    ['plain, tours/s', 'plain', 2],
    ['tour-import, tours/s', 'tourImport', 2],
    ['tour-import, resizes/s', 'tourImportResizes', 2],
    ['tour-import ÷ ceiling (resizes/s)', 'overCeiling', 3],
    ['tour-import ÷ legacy (tours/s)', 'overLegacy', 3],
    ['tour-import ÷ plain (tours/s)', 'overPlain', 3],
  ];
  const L = [
    `## Repeats (scenarios 1-4, ${runs.length} runs)`,
    '',
    'Each run: all ceiling probes, legacy, plain at the first run’s best probe, and the full import on a fresh ' +
      'schema, blob folder and worker processes. The tables above show the first run; the ratio table the medians.',
    '',
    '| figure | median | lowest – highest | spread | every run |',
    '|---|---|---|---|---|',
  ];
  for (const [label, key, digits] of rows) {
    const sp = spread(runs, key);
    if (sp)
      L.push(
        `| ${label} | **${fmt(sp.median, digits)}** | ${fmt(sp.min, digits)} – ${fmt(sp.max, digits)} | ` +
          `${pct((sp.max - sp.min) / sp.median)} | ${sp.runs.map((v) => fmt(v, digits)).join(' / ')} |`,
      );
  }
  L.push('');
  return L;
}
