/**
 * Scenario 6, scale: listing and deciding over a large catalog already imported and unchanged. The
 * catalog's tours are written straight into the tables (as an earlier import would have left them),
 * so the import measured starts no children and shows the cost per unchanged tour.
 */
import type pg from 'pg';
import { tourContentHash } from '../src/domain/hash.js';
import type { OperatorAdapter } from '../src/operators/types.js';
import { adapterFor } from './lib/catalogs.js';
import type { Bench } from './lib/harness.js';
import { measureImport } from './lib/imports.js';
import type { ImportContext } from './lib/rig.js';
import type { BenchReport } from './report.js';

const PAGE_SIZE = 500;

export async function scale(bench: Bench, ctx: ImportContext): Promise<NonNullable<BenchReport['scale']>> {
  const { log } = bench;
  log(`scale: seeding ${bench.size.scaleTours} tours as already imported`);
  const seedStart = performance.now();
  await seedAsImported(adapterFor(bench, 'scale'), bench.pool);
  log(`scale: seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s; full listing import`);
  const run = await measureImport(bench, ctx, {
    name: 'scale',
    operatorId: 'scale',
    mode: 'full',
    settings: { pageSize: PAGE_SIZE },
  });
  if (run.result.status !== 'completed') throw new Error(`scale import: ${JSON.stringify(run.result)}`);
  log(`scale: ${(run.figures.wallMs / 1000).toFixed(1)} s, ${run.runs.length} run(s), ${run.result.message}`);
  return { ...run.figures, runs: run.runs, pageSize: PAGE_SIZE };
}

/** Every active tour of the listing as a row an import would have written, with its content hash. */
async function seedAsImported(adapter: OperatorAdapter, pool: pg.Pool): Promise<void> {
  for (let pos: string | undefined, first = true; first || pos !== undefined; first = false) {
    const page = await adapter.listPage(pos, { mode: 'full', pageSize: PAGE_SIZE });
    const tours = page.entries.flatMap((e) => (e.kind === 'active' && e.tour ? [e.tour] : []));
    await pool.query(
      `INSERT INTO tours (operator_id, external_id, status, title, content_hash, source_updated_at, fetched_at)
       SELECT 'scale', x, 'active', t, h, u::timestamptz, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(x, t, h, u)`,
      [
        tours.map((t) => t.externalId),
        tours.map((t) => t.title),
        tours.map((t) => tourContentHash(t)),
        tours.map((t) => t.sourceUpdatedAt),
      ],
    );
    pos = page.next;
  }
}
