/**
 * Scenario 1, the ceiling: raw sharp on a sample of the catalog's images (bench/ceiling.ts in a child
 * process per libuv pool size), at every combination the machine's size suggests. Its best probe sets
 * the resize settings every baseline runs at.
 */
import os from 'node:os';
import path from 'node:path';
import type { CeilingProbe } from './ceiling.js';
import { runChild } from './lib/common.js';
import type { Bench, ResizeSettings } from './lib/harness.js';

export interface CeilingFigures {
  probes: CeilingProbe[];
  best: CeilingProbe;
}

type Combo = { sharpConcurrency: number; inflight: number };

/** Images the probes resize: the catalog's first few. */
const sampleSize = (bench: Bench) => Math.min(bench.catalog.urls.size, bench.options.smoke ? 6 : 32);

/** Raw sharp on the sample at each combination, in a child process (on `cpus` if given). */
export async function probeCeiling(
  bench: Bench,
  label: string,
  uv: number,
  combos: Combo[],
  cpus?: string,
): Promise<CeilingProbe[]> {
  const { dataDir } = bench;
  const run = await runChild<{ probes: CeilingProbe[] }>(
    'bench/ceiling.ts',
    {
      resultFile: path.join(dataDir, `ceiling-${label}.json`),
      imageDir: bench.catalog.imageDir,
      outDir: path.join(dataDir, `ceiling-out-${label}`),
      sample: sampleSize(bench),
      combos,
    },
    { UV_THREADPOOL_SIZE: String(uv) },
    cpus,
  );
  return run.result.probes;
}

export const fastest = (probes: CeilingProbe[]) =>
  probes.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));

/** The settings of a probe, for the pipelines that resize as it did. */
export const settingsOf = (p: CeilingProbe): ResizeSettings => ({
  uvThreads: p.uvThreads,
  sharpConcurrency: p.sharpConcurrency,
  inflight: p.inflight,
});

/**
 * The probes sized to the machine: images in flight 1, 2, 4 … up to twice the cores, with libuv's pool
 * at twice the cores (at least its default 4) for both sharp concurrencies; then the pool at the core
 * count, for comparison, at the two widest.
 */
function probePlan(smoke: boolean): { uv: number; combos: Combo[] }[] {
  const cores = os.availableParallelism();
  const wide = Math.max(4, 2 * cores);
  const inflights = [1];
  while (inflights[inflights.length - 1] < 2 * cores) inflights.push(inflights[inflights.length - 1] * 2);
  const at = (sharpConcurrency: number, inflight: number) => ({ sharpConcurrency, inflight });
  return smoke
    ? [{ uv: 4, combos: [at(1, 2), at(2, 2)] }]
    : [
        { uv: wide, combos: [1, 2].flatMap((sc) => inflights.map((n) => at(sc, n))) },
        ...(cores < wide ? [{ uv: cores, combos: inflights.slice(-2).map((n) => at(1, n)) }] : []),
      ];
}

/** Every probe of the plan (`rep`: which --repeat run, for the result files' names). */
export async function ceiling(bench: Bench, rep: number): Promise<CeilingFigures> {
  const probes: CeilingProbe[] = [];
  for (const { uv, combos } of probePlan(bench.options.smoke)) {
    bench.log(
      `ceiling: UV_THREADPOOL_SIZE=${uv}, ${combos.length} combinations on ${sampleSize(bench)} images`,
    );
    probes.push(...(await probeCeiling(bench, `${uv}-${rep}`, uv, combos)));
  }
  const top = fastest(probes);
  bench.log(
    `ceiling: best ${top.imagesPerSec.toFixed(2)} images/s at UV ${top.uvThreads}, ${top.inflight} in flight`,
  );
  return { probes, best: top };
}
