/**
 * Scenario 1, the ceiling: raw sharp through the product's own createImageProcessor on pre-downloaded
 * originals, no network, no database, no orchestration. Run once per UV_THREADPOOL_SIZE (set by
 * bench/ceiling-probes.ts before Node starts); tries each sharp concurrency × images-in-flight combination.
 */
import { readdirSync, readFileSync, rmSync, mkdirSync, renameSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { configureSharp, createImageProcessor, type VariantSink } from '../src/images/resize.js';
import { FORMATS, WIDTHS, jobFromEnv, selfUsage } from './lib/common.js';

interface CeilingJob {
  resultFile: string;
  imageDir: string;
  outDir: string;
  sample: number;
  combos: { sharpConcurrency: number; inflight: number }[];
}

export interface CeilingProbe {
  uvThreads: number;
  sharpConcurrency: number;
  inflight: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  cpuMsPerImage: number;
}

const job = jobFromEnv<CeilingJob>();
const files = readdirSync(job.imageDir)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, job.sample);
const sources = files.map((f) => readFileSync(path.join(job.imageDir, f)));
const processor = createImageProcessor({ widths: WIDTHS, formats: FORMATS, maxPixels: 100_000_000 });
mkdirSync(job.outDir, { recursive: true });
let n = 0;
const sink: VariantSink = {
  tempPath: async (spec) => path.join(job.outDir, `.tmp-${process.pid}-${n++}.${spec.format}`),
  async commit(spec, file) {
    const key = path.join(job.outDir, `${n % 64}-${spec.width}.${spec.format}`);
    renameSync(file, key);
    return key;
  },
};

const probes: CeilingProbe[] = [];
const uvThreads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
for (const combo of job.combos) {
  configureSharp({ concurrency: combo.sharpConcurrency });
  await processor.makeVariants({ input: sources[0], sink }); // warm-up
  const limit = pLimit(combo.inflight);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(sources.map((input) => limit(() => processor.makeVariants({ input, sink }))));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  probes.push({
    uvThreads,
    ...combo,
    images: sources.length,
    seconds,
    imagesPerSec: sources.length / seconds,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / sources.length,
  });
}
rmSync(job.outDir, { recursive: true, force: true });
await writeFile(job.resultFile, JSON.stringify({ probes, ...selfUsage() }));
