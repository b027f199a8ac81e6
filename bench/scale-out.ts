/**
 * Scenario 7, scale-out: the full import again with two processes of each worker kind polling the same
 * task queues (as two hosts would), on a fresh schema and blob folder, then counted row by row and blob
 * by blob to show that no tour or image was done twice and none was lost.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Bench } from './lib/harness.js';
import { freshStore, measureImport, stopWorkers, type MeasuredImport } from './lib/imports.js';
import { startWorker, type WorkerKind, type WorkerProcess } from './lib/workers.js';
import type { BenchReport, PipelineFigures, ScaleOutCheck } from './report.js';

/** The scale-out import beside `single`, the same run's one-process-per-kind import; problems become failures. */
export async function scaleOut(
  bench: Bench,
  client: Client,
  single: PipelineFigures,
): Promise<NonNullable<BenchReport['scaleOut']>> {
  const store = await freshStore(bench, 'scale-out');
  const { workers, names } = await startScaleOutWorkers(bench, store.env);
  bench.log(`scale-out: full import of ${bench.size.tours} tours`);
  const so = await measureImport(
    bench,
    { workers, names, pool: store.pool, client, serverPid: bench.server.pid },
    { name: 'scale-out (2 + 2 processes)', operatorId: 'bench', mode: 'full' },
  );
  await stopWorkers(workers);
  const check = await countWork(bench, so, store, workers, names);
  const problems = problemsIn(check);
  problems.forEach((p) => bench.failures.push(`scale-out: ${p}`));
  bench.log(
    `scale-out: ${so.figures.toursPerSec.toFixed(2)} tours/s (single ${single.toursPerSec.toFixed(2)}); ` +
      `${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'nothing done twice, nothing lost'}`,
  );
  return { ...so.figures, runs: so.runs, check, problems, single };
}

/** Two tour-import and two image-processing workers, named kind#1 and kind#2. */
async function startScaleOutWorkers(
  bench: Bench,
  env: (e: Record<string, string>) => Record<string, string>,
) {
  const plan: [WorkerKind, Record<string, string>][] = [
    ['tour-import', env(bench.workerEnv)],
    ['tour-import', env(bench.workerEnv)],
    ['image-processing', env(bench.imageEnv)],
    ['image-processing', env(bench.imageEnv)],
  ];
  const names = plan.map(([k], i) => `${k}#${(i % 2) + 1}`);
  bench.log(`scale-out: starting ${names.join(', ')}`);
  const workers = await Promise.all(
    plan.map(([k, e], i) =>
      startWorker(k, e, path.join(bench.dataDir, `worker-${names[i].replace('#', '-')}.log`)),
    ),
  );
  bench.cleanups.add(() => Promise.all(workers.map((w) => w.stop())));
  return { workers, names };
}

/** What the import left in the tables, the blob folder and the workers' logs. */
async function countWork(
  bench: Bench,
  so: MeasuredImport,
  store: { pool: pg.Pool; blobDir: string },
  workers: WorkerProcess[],
  names: string[],
): Promise<ScaleOutCheck> {
  const q = async (sql: string) => (await store.pool.query(sql)).rows[0] as Record<string, number>;
  const tours = await q(`SELECT count(*)::int AS n FROM tours WHERE operator_id = 'bench'`);
  const variants = await q(
    'SELECT count(*)::int AS n, count(DISTINCT sha256)::int AS shas FROM asset_variants',
  );
  const assets = await q(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'ready')::int AS ready,
            count(DISTINCT sha256)::int AS shas FROM tour_assets`,
  );
  const originalsDir = path.join(store.blobDir, 'originals');
  const originals = (existsSync(originalsDir) ? readdirSync(originalsDir, { recursive: true }) : []).filter(
    (f) => /[0-9a-f]{64}$/.test(String(f)),
  ).length;
  // Persisted by a tour worker (persistTour) or, with its images, by an image worker (importTourImages).
  const persistedBy: Record<string, number> = Object.fromEntries(
    workers.map((w, i) => [names[i], readFileSync(w.logFile, 'utf8').split('tour persisted').length - 1]),
  );
  const { catalog } = bench;
  return {
    catalogTours: catalog.tours,
    tourRows: tours.n,
    done: so.result.progress.done,
    failed: so.result.progress.failed,
    childExecutions: so.figures.children ?? 0,
    distinctChildIds: so.childIds.size,
    imageSlots: catalog.imageSlots,
    assetRows: assets.n,
    readyAssets: assets.ready,
    distinctSha: assets.shas,
    variantRows: variants.n,
    variantShas: variants.shas,
    originals,
    downloads: so.figures.downloads,
    distinctImages: catalog.urls.size,
    persistedBy,
  };
}

/** Every count that shows work done twice or lost, in words. */
function problemsIn(check: ScaleOutCheck): string[] {
  const { catalogTours, imageSlots, persistedBy } = check;
  return [
    check.tourRows !== catalogTours && `tours rows ${check.tourRows} ≠ ${catalogTours} tours`,
    check.done !== catalogTours && `${check.done} tours done of ${catalogTours}`,
    check.failed > 0 && `${check.failed} tours failed`,
    check.childExecutions !== check.distinctChildIds &&
      `${check.childExecutions} ImportTour executions for ${check.distinctChildIds} workflow ids`,
    check.distinctChildIds !== catalogTours && `${check.distinctChildIds} ImportTour ids ≠ ${catalogTours}`,
    check.assetRows !== imageSlots && `tour_assets rows ${check.assetRows} ≠ ${imageSlots} image slots`,
    check.readyAssets !== imageSlots && `${imageSlots - check.readyAssets} images not ready`,
    check.variantRows !== check.distinctSha * 6 &&
      `asset_variants rows ${check.variantRows} ≠ 6 × ${check.distinctSha} distinct sha256`,
    check.originals !== check.distinctSha &&
      `${check.originals} original blobs ≠ ${check.distinctSha} sha256`,
    Object.values(persistedBy).reduce((a, b) => a + b, 0) !== catalogTours &&
      `workers logged ${JSON.stringify(persistedBy)} persisted tours, not ${catalogTours} in all`,
  ].filter((p): p is string => typeof p === 'string');
}
