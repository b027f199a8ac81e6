/**
 * The baselines the product is compared with (bench/legacy/run.ts, bench/plain.ts), each run as a child
 * process on the bench catalog and measured as the imports are: its own CPU and RSS, PostgreSQL's and the
 * simulator's CPU around it.
 */
import path from 'node:path';
import type { PipelineFigures } from '../report.js';
import { runChild, type ChildRun, type JobResult } from './common.js';
import { figures } from './figures.js';
import type { Bench, ResizeSettings } from './harness.js';
import { commCpuMs, treeCpuMs } from './proc.js';
import { settle } from './rig.js';

/** A baseline script's run as `name` (its figures' process name too), on `cpus` if given. */
export async function runBaseline(
  bench: Bench,
  name: string,
  file: string,
  extra: Record<string, unknown>,
  cpus?: string,
): Promise<PipelineFigures> {
  const { sim, dataDir } = bench;
  settle();
  await sim.counters(true);
  const cpu0 = { pg: commCpuMs('postgres'), sim: treeCpuMs(sim.pid) };
  const slug = name.replace(/\W+/g, '_');
  const job = {
    databaseUrl: bench.databaseUrl,
    schema: bench.schema,
    operatorsYaml: bench.yaml,
    operatorId: 'bench',
    apiKey: bench.apiKey('bench'),
    resultFile: path.join(dataDir, `${slug}.json`),
    outDir: path.join(dataDir, slug),
    ...extra,
  };
  const env = { UV_THREADPOOL_SIZE: String(bench.best.uvThreads) };
  const run: ChildRun<JobResult> = await runChild<JobResult>(file, job, env, cpus);
  const c = await sim.counters(true);
  return figures(name, run.result, {
    processCpuMs: { [name]: run.cpuMs },
    peakRssMb: { [name]: run.peakRssMb },
    serverCpuMs: 0,
    pgCpuMs: Math.max(0, commCpuMs('postgres') - cpu0.pg),
    simCpuMs: treeCpuMs(sim.pid) - cpu0.sim,
    counters: c,
  });
}

/** Plain's job over the bench catalog, resizing as `at` says, a tour window as the product's. */
export const plainJob = (bench: Bench, at: Pick<ResizeSettings, 'inflight' | 'sharpConcurrency'>) => ({
  maxTours: bench.size.tours,
  tourConcurrency: bench.size.window,
  downloadConcurrency: 32,
  resizeConcurrency: at.inflight,
  sharpConcurrency: at.sharpConcurrency,
});

/** The legacy baseline over the first `legacyTours` tours. */
export const runLegacy = (bench: Bench) =>
  runBaseline(bench, 'legacy', 'bench/legacy/run.ts', { maxTours: bench.options.legacyTours });

/** Plain over the bench catalog at the ceiling's best probe. */
export const runPlain = (bench: Bench) =>
  runBaseline(bench, 'plain', 'bench/plain.ts', plainJob(bench, bench.best));
