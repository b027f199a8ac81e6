/**
 * Scenario 9, split: the image worker on a core of its own, all else on the others — as separate hosts
 * would run it (docker-compose.yml gives image workers their own service and CPU limit; more hosts run
 * the same image). The ceiling and plain, run on that one core too, are what it compares with.
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { fastest, probeCeiling } from './ceiling-probes.js';
import { plainJob, runBaseline } from './lib/baseline.js';
import type { Bench } from './lib/harness.js';
import { contextOf, freshStore, measureImport, startPair, stopWorkers } from './lib/imports.js';
import { canPinCpus, commPids, pinCpus, tree } from './lib/proc.js';
import type { BenchReport } from './report.js';

/** The split figures; none where the machine cannot pin processes to two sets of CPUs. */
export async function split(bench: Bench, client: Client): Promise<BenchReport['split']> {
  const cpuCount = os.cpus().length;
  if (cpuCount < 2 || !canPinCpus()) {
    bench.log('split: skipped (needs two CPUs and taskset)');
    return undefined;
  }
  const { log, size, server, sim } = bench;
  const imageCpu = String(cpuCount - 1);
  const restCpus = cpuCount > 2 ? `0-${cpuCount - 2}` : '0';
  // The server, PostgreSQL, the simulator and the bench itself (and what it starts from now on).
  const others = () => [...tree(server.pid), ...tree(sim.pid), ...commPids('postgres'), process.pid];
  const unpin = () => pinCpus(others(), `0-${cpuCount - 1}`);
  bench.cleanups.add(async () => unpin());
  pinCpus(others(), restCpus);
  log(`split: ceiling on CPU ${imageCpu} (everything else on ${restCpus})`);
  const combos = [1, 2].map((inflight) => ({ sharpConcurrency: 1, inflight }));
  const probes = await probeCeiling(bench, 'split', bench.best.uvThreads, combos, imageCpu);
  const ceiling = fastest(probes);
  log(`split: plain on CPU ${imageCpu}`);
  const plain = await runBaseline(
    bench,
    'plain (1 core)',
    'bench/plain.ts',
    plainJob(bench, ceiling),
    imageCpu,
  );
  const store = await freshStore(bench, 'split');
  const workers = await startPair(bench, store.env, 'split', imageCpu);
  log(`split: full import of ${size.tours} tours, image worker on CPU ${imageCpu}`);
  const run = await measureImport(bench, contextOf(workers, store.pool, client, server.pid), {
    name: 'split (image worker on 1 core)',
    operatorId: 'bench',
    mode: 'full',
  });
  await stopWorkers(workers);
  unpin();
  if (run.result.status !== 'completed' || run.result.progress.failed > 0)
    bench.failures.push(`split: the import did not complete cleanly: ${JSON.stringify(run.result)}`);
  log(
    `split: ${run.figures.resizesPerSec.toFixed(2)} resizes/s (ceiling on one core ${ceiling.imagesPerSec.toFixed(2)}), ` +
      `${run.figures.toursPerSec.toFixed(2)} tours/s (plain on one core ${plain.toursPerSec.toFixed(2)})`,
  );
  return { imageCpu, restCpus, ceiling: { probes, best: ceiling }, plain, tourImport: run.figures };
}
