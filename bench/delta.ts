/**
 * Scenario 5, delta: 1 % of the already imported bench catalog changes and a delta import follows; then
 * the same on a second, larger catalog (`--delta-tours`), imported in full first.
 */
import type { Bench } from './lib/harness.js';
import { measureImport } from './lib/imports.js';
import type { ImportContext } from './lib/rig.js';
import type { BenchReport, DeltaFigures } from './report.js';

/** Both delta imports, as the report keeps them. */
export async function delta(
  bench: Bench,
  ctx: ImportContext,
): Promise<Required<Pick<BenchReport, 'delta' | 'deltaCatalog'>>> {
  const { size, log } = bench;
  const onBench = await measureDelta(bench, ctx, 'delta', 'bench');
  const tours = size.deltaTours.toLocaleString('en');
  log(`delta: full import of the ${tours}-tour catalog (${size.deltaImages} images per tour)`);
  const full = await measureImport(bench, ctx, {
    name: `full (${tours} tours)`,
    operatorId: 'delta',
    mode: 'full',
  });
  if (full.result.status !== 'completed' || full.result.progress.failed > 0)
    throw new Error(`full import of the delta catalog: ${JSON.stringify(full.result)}`);
  log(`delta: ${(full.figures.wallMs / 1000).toFixed(1)} s, ${full.result.message}`);
  return {
    delta: onBench,
    deltaCatalog: {
      full: { ...full.figures, runs: full.runs },
      delta: await measureDelta(bench, ctx, `delta (${tours} tours)`, 'delta'),
    },
  };
}

/** 1 % of an imported catalog changes (each changed tour's first image under a new URL); a delta import follows. */
async function measureDelta(
  bench: Bench,
  ctx: ImportContext,
  name: string,
  operatorId: string,
): Promise<DeltaFigures> {
  const changed = await bench.sim.change(operatorId, 0.01);
  bench.log(`${name}: ${changed.changedTours} tours changed (${changed.changedImages} images replaced)`);
  const run = await measureImport(bench, ctx, { name, operatorId, mode: 'delta' });
  if (run.result.status !== 'completed') throw new Error(`${name} import: ${JSON.stringify(run.result)}`);
  bench.log(`${name}: ${(run.figures.wallMs / 1000).toFixed(1)} s, ${run.result.message}`);
  return { ...run.figures, runs: run.runs, ...changed, codes: undefined };
}
