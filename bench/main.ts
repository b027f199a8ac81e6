/**
 * `npm run bench [-- --smoke]`: every scenario side by side on one simulator catalog and the same output
 * sizes (1200/600/200 × jpeg/webp). Starts its own Temporal server (`--server`: the dev server by default),
 * a fresh PostgreSQL schema and the operator simulator (child process, behind a counting proxy), then
 * writes bench/RESULTS.md. `--compare-servers` runs the full import once on each server instead.
 *
 * This file only decides what runs and in which order; each scenario is a module of its own that
 * returns its figures, and bench/lib/harness.ts starts what they share.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiCalls } from './api-calls.js';
import { legacy, plain } from './baselines.js';
import { ceiling, settingsOf } from './ceiling-probes.js';
import { compareServers } from './compare-servers.js';
import { delta } from './delta.js';
import { fairnessFigures, fairnessOnDefaultServer, fairnessPhase } from './fairness.js';
import { floorScenario } from './floor.js';
import { fullImport } from './full-import.js';
import { ROOT } from './lib/common.js';
import { Cleanups, newRun, startBench, type Bench } from './lib/harness.js';
import { startSingleWorkers, stopWorkers } from './lib/imports.js';
import { machine } from './lib/machine.js';
import { lowLoadScenario } from './low-load.js';
import { manyOperatorsScenario } from './many-operators.js';
import { parseOptions, type BenchOptions, type Scenario } from './options.js';
import { repeatRun, repeatScenarios } from './repeat.js';
import { mergeReports, writeResults, type BenchReport } from './report.js';
import { rss24mpScenario } from './rss-24mp.js';
import { scale } from './scale.js';
import { scaleOut } from './scale-out.js';
import { split } from './split.js';

const options = parseOptions();
const run = newRun();
const out =
  options.cli.out ??
  (options.smoke
    ? path.join(ROOT, 'data', 'bench', 'RESULTS-smoke.md')
    : path.join(ROOT, 'bench', 'RESULTS.md'));

if (options.cli.compareServers) {
  const failed = await compareServers({
    args: process.argv.slice(2),
    out,
    dataDir: run.dataDir,
    log: run.log,
  })
    .then(() => false)
    .catch((err: unknown) => (console.error(err), true));
  process.exit(failed ? 1 : 0);
}

const cleanups = new Cleanups();
process.on('SIGINT', () => void cleanups.run().then(() => process.exit(130)));
try {
  run.log(
    `run ${run.runId}: ${JSON.stringify(options.size)}, legacy ${options.legacyTours} tours, data in ${run.dataDir}`,
  );
  const bench = await startBench(options, run, cleanups);
  const report = await runScenarios(bench, await firstReport(bench));
  writeReport(bench, report);
  if (bench.failures.length) throw new Error(`benchmark checks failed:\n${bench.failures.join('\n')}`);
  await cleanups.run();
  process.exit(0);
} catch (err) {
  console.error(err);
  await cleanups.run();
  process.exit(1);
}

/**
 * Every scenario not skipped, in this order: the baselines before any worker starts, then what the
 * single workers measure, then what needs them stopped (other workers polling the same queues).
 */
async function runScenarios(bench: Bench, report: BenchReport): Promise<BenchReport> {
  const unlessSkipped = <T>(name: Scenario, scenario: () => Promise<T>) =>
    bench.options.skip.has(name) ? undefined : scenario();
  report.ceiling = await unlessSkipped('ceiling', () => ceiling(bench, 1));
  if (report.ceiling) bench.best = settingsOf(report.ceiling.best);
  report.legacy = await unlessSkipped('legacy', () => legacy(bench));
  report.plain = await unlessSkipped('plain', () => plain(bench));

  const single = await startSingleWorkers(bench);
  const full = await fullImport(bench, single);
  report.tourImport = { ...full.figures, runs: full.runs };
  report.floor = await unlessSkipped('floor', () => floorScenario(bench, single));
  report.lowLoad = await unlessSkipped('low-load', () => lowLoadScenario(bench, single));
  report.manyOperators = await unlessSkipped('many-operators', () => manyOperatorsScenario(bench, single));
  report.rss24mp = await unlessSkipped('rss-24mp', () => rss24mpScenario(bench, single));
  report.apiCalls = await unlessSkipped('api-calls', () => apiCalls(bench, single));
  Object.assign(report, await unlessSkipped('delta', () => delta(bench, single)));
  report.scale = await unlessSkipped('scale', () => scale(bench, single));
  const fairnessOn = await unlessSkipped('fairness', () => fairnessPhase(bench, 'on', single));
  await stopWorkers(single.workers);

  report.scaleOut = await unlessSkipped('scale-out', () => scaleOut(bench, single.client, full.figures));
  const fairnessOff = await unlessSkipped('fairness', () => fairnessOnDefaultServer(bench));
  report.fairness = fairnessFigures(
    bench,
    [fairnessOn, fairnessOff].filter((p) => p !== undefined),
  );
  report.split = await unlessSkipped('split', () => split(bench, single.client));
  report.repeats = await repeatScenarios(
    bench,
    single.client,
    repeatRun({
      ceiling: report.ceiling?.best,
      legacy: report.legacy,
      plain: report.plain,
      tourImport: full.figures,
    }),
  );
  return report;
}

/** The report before any scenario: the run, the machine, the catalog and the product's knobs. */
async function firstReport(bench: Bench): Promise<BenchReport> {
  const { options, catalog } = bench;
  const machineInfo = await machine(bench.cli);
  return {
    runId: bench.runId,
    smoke: options.smoke,
    server:
      options.cli.server === 'dev'
        ? `${machineInfo.temporal} ${bench.server.description}`
        : bench.server.description,
    size: { ...options.size, legacyTours: options.legacyTours },
    machine: machineInfo,
    catalog: {
      tours: catalog.tours,
      imageSlots: catalog.imageSlots,
      distinctImages: catalog.urls.size,
      avgSourceKb: catalog.urls.size ? catalog.sourceBytes / catalog.urls.size / 1024 : 0,
    },
    knobs: knobs(options),
  };
}

/** The product's settings in this run, as the results file lists them. */
function knobs({ cli: o, size, serverDynamicConfig }: BenchOptions): Record<string, string | number> {
  return {
    window: size.window,
    IMAGE_WORKER_MAX_ACTIVITIES: o.imageSlots ?? 'default (64)',
    IMAGE_WORKER_MAX_RESIZES: o.imageResizes ?? `default (2 × ${os.availableParallelism()} cores)`,
    TOUR_WORKER_MAX_ACTIVITIES: o.tourSlots ?? 'default (50)',
    UV_THREADPOOL_SIZE: o.uvThreads ?? 'unset (the image worker sizes it: 2 × cores, at least 4)',
    SHARP_CONCURRENCY: o.sharpConcurrency ?? 'unset (sharp default)',
    MALLOC_ARENA_MAX: o.mallocArenaMax ?? 'unset',
    'server dynamic config': serverDynamicConfig.join(' ') || 'none',
  };
}

/** report.json in the run's folder (and `--report-json`), then the results file (`--merge-from` applied). */
function writeReport(bench: Bench, report: BenchReport): void {
  const { cli } = bench.options;
  const loadavg = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
  report.machine.loadavg = `${report.machine.loadavg} at start, ${loadavg} at end`;
  const json = JSON.stringify(report, null, 2);
  writeFileSync(path.join(bench.dataDir, 'report.json'), json);
  if (cli.reportJson) writeFileSync(cli.reportJson, json);
  const merged = cli.mergeFrom
    ? mergeReports(JSON.parse(readFileSync(cli.mergeFrom, 'utf8')) as BenchReport, report)
    : report;
  writeResults(out, merged);
  bench.log(`results written to ${out} (raw figures: ${path.join(bench.dataDir, 'report.json')})`);
}
