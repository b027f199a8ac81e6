/**
 * Scenarios 2 and 3, the baselines: legacy (bench/legacy/, one tour at a time) and plain (bench/plain.ts,
 * a p-limit script without durability), each over the bench catalog.
 */
import type { PipelineFigures } from './report.js';
import { runLegacy, runPlain } from './lib/baseline.js';
import type { Bench } from './lib/harness.js';

export async function legacy(bench: Bench): Promise<PipelineFigures> {
  bench.log(`legacy: ${bench.options.legacyTours} tours, one at a time`);
  const f = await runLegacy(bench);
  bench.log(`legacy: ${f.toursPerSec.toFixed(2)} tours/s`);
  return f;
}

export async function plain(bench: Bench): Promise<PipelineFigures> {
  bench.log(`plain: ${bench.size.tours} tours, p-limit`);
  const f = await runPlain(bench);
  bench.log(`plain: ${f.toursPerSec.toFixed(2)} tours/s`);
  return f;
}
