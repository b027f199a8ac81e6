/**
 * Scenario 4, the full import: the bench catalog through the product, both workers as separate processes
 * as a user runs them. Its figures are what every ratio compares with.
 */
import type { Bench } from './lib/harness.js';
import { measureImport, type MeasuredImport } from './lib/imports.js';
import type { ImportContext } from './lib/rig.js';

/** The full import; a run in which it does not complete cleanly measures nothing else. */
export async function fullImport(bench: Bench, ctx: ImportContext): Promise<MeasuredImport> {
  bench.log(`tour-import: full import of ${bench.size.tours} tours`);
  const full = await measureImport(bench, ctx, { name: 'full', operatorId: 'bench', mode: 'full' });
  if (full.result.status !== 'completed' || full.result.progress.failed > 0)
    throw new Error(`full import did not complete cleanly: ${JSON.stringify(full.result)}`);
  bench.log(`tour-import: ${full.figures.toursPerSec.toFixed(2)} tours/s, ${full.result.message}`);
  return full;
}
