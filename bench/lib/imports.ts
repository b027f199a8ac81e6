/**
 * Imports through the product, measured: worker processes started as a user starts them, an
 * ImportOperator run on them, and its figures from the processes, the histories and the tables.
 */
import { dropSchema } from '../../src/db/database.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { syncOperators } from '../../src/operators/resolver.js';
import type { ImportOperatorResult } from '../../src/workflows/types.js';
import type { PipelineFigures } from '../report.js';
import { figures } from './figures.js';
import type { Bench } from './harness.js';
import { childTimings, parentTimeline } from './histories.js';
import { startMeasurement, type ImportContext } from './rig.js';
import { startWorker, type WorkerProcess } from './workers.js';

/** One import's outcome and figures, with its parent's runs and the ids of the children it started. */
export interface MeasuredImport {
  result: ImportOperatorResult;
  runs: { runId: string; events: number; bytes: number }[];
  startedAt: Date;
  childIds: Set<string>;
  figures: PipelineFigures;
}

type Env = Record<string, string>;

/** The run's first tour-import and image-processing workers and a client: what most scenarios import on. */
export async function startSingleWorkers(bench: Bench): Promise<ImportContext> {
  const { dataDir, cleanups } = bench;
  bench.log(
    'starting worker processes (tsx src/workers/tour-import.ts, tsx src/workers/image-processing.ts)',
  );
  const workers: WorkerProcess[] = await Promise.all([
    startWorker('tour-import', bench.workerEnv, path.join(dataDir, 'worker-tour-import.log')),
    startWorker('image-processing', bench.imageEnv, path.join(dataDir, 'worker-image-processing.log')),
  ]);
  cleanups.add(() => Promise.all(workers.map((w) => w.stop())));
  const connection = await Connection.connect({ address: bench.server.address });
  cleanups.add(() => connection.close());
  const client = new Client({ connection });
  return {
    workers,
    names: workers.map((w) => w.kind),
    pool: bench.pool,
    client,
    serverPid: bench.server.pid,
  };
}

export const stopWorkers = (workers: WorkerProcess[]) => Promise.all(workers.map((w) => w.stop()));

/** A tour-import and an image-processing worker with `env` applied, logging to worker-<kind>-<suffix>.log. */
export async function startPair(
  bench: Bench,
  env: (e: Env) => Env,
  suffix: string,
  imageCpu?: string,
): Promise<WorkerProcess[]> {
  const logFile = (kind: string) => path.join(bench.dataDir, `worker-${kind}-${suffix}.log`);
  const pair = await Promise.all([
    startWorker('tour-import', env(bench.workerEnv), logFile('tour-import')),
    startWorker('image-processing', env(bench.imageEnv), logFile('image-processing'), imageCpu),
  ]);
  bench.cleanups.add(() => Promise.all(pair.map((w) => w.stop())));
  return pair;
}

/** A fresh schema (migrated, operators synced) and blob folder, to import the catalog once more. */
export async function freshStore(bench: Bench, label: string) {
  const freshSchema = `${bench.schema}_${label.replace(/\W+/g, '_')}`;
  await migrate(bench.databaseUrl, freshSchema);
  const pool = createPool(bench.databaseUrl, freshSchema, 4);
  bench.cleanups.add(async () => {
    await dropSchema(pool, freshSchema);
    await pool.end();
  });
  await syncOperators(pool, bench.configs);
  const blobDir = path.join(bench.dataDir, `blobs-${label}`);
  return {
    pool,
    blobDir,
    env: (e: Env) => ({ ...e, DATABASE_SCHEMA: freshSchema, BLOB_DIR: blobDir }),
  };
}

/** The import context of `workers`, on the given schema and client. */
export const contextOf = (workers: WorkerProcess[], pool: pg.Pool, client: Client, serverPid: number) => ({
  workers,
  names: workers.map((w) => w.kind),
  pool,
  client,
  serverPid,
});

/** An ImportOperator run of `operatorId` on `ctx`, measured from start to result. */
export async function measureImport(
  bench: Bench,
  ctx: ImportContext,
  run: { name: string; operatorId: string; mode: 'full' | 'delta'; settings?: Record<string, unknown> },
): Promise<MeasuredImport> {
  const { name, operatorId } = run;
  const stop = await startMeasurement(ctx, bench.sim);
  const startedAt = new Date(Date.now() - 1000);
  const workflowId = `bench-${name}-${randomBytes(3).toString('hex')}`;
  const handle = await ctx.client.workflow.start('ImportOperator', {
    taskQueue: 'tour-import',
    workflowId,
    args: [{ operatorId, mode: run.mode, settings: { window: bench.size.window, ...run.settings } }],
  });
  const result = (await handle.result()) as ImportOperatorResult;
  const { wallMs, resized, usage } = await stop();
  await new Promise((r) => setTimeout(r, 1500)); // visibility is eventually consistent
  const children = await listChildren(ctx.client, operatorId, startedAt);
  // Small imports only (one history read per child).
  const childPhases =
    children.closed.length <= 200 ? await childTimings(ctx.client, children.closed) : undefined;
  const slug = name.replace(/\W+/g, '_');
  if (children.slowest)
    await saveHistory(ctx.client, children.slowest, bench.dataDir, `${slug}-slowest-tour`);
  const { runs, histories } = await parentRuns(ctx.client, workflowId, bench.dataDir, slug);
  const imageSlots = await imageSlotsWritten(ctx.pool, operatorId, startedAt);
  const job = {
    wallMs,
    // Scale starts no children: its per-tour figures are per listed (unchanged) tour.
    tours: operatorId === 'scale' ? result.progress.listed : result.progress.done,
    imageSlots,
    downloads: usage.counters.image200,
    resizes: resized,
    latenciesMs: children.latenciesMs,
  };
  const extra = {
    ...usage,
    children: children.count,
    listed: result.progress.listed,
    unchanged: result.progress.unchanged,
    failed: result.progress.failed,
    timeline: parentTimeline(histories),
    childPhases,
  };
  return { result, runs, startedAt, childIds: children.ids, figures: figures(name, job, extra) };
}

/** The figures of an import that must complete with no tour failed. */
export async function cleanImport(
  bench: Bench,
  ctx: ImportContext,
  name: string,
  operatorId: string,
  settings = {},
): Promise<PipelineFigures> {
  const run = await measureImport(bench, ctx, { name, operatorId, mode: 'full', settings });
  if (run.result.status !== 'completed' || run.result.progress.failed > 0)
    throw new Error(`${name} did not complete cleanly: ${JSON.stringify(run.result)}`);
  return run.figures;
}

/** The ImportTour children of `operatorId` started since `startedAt` (the fairness scenario runs two at once). */
async function listChildren(client: Client, operatorId: string, startedAt: Date) {
  const latenciesMs: number[] = [];
  let count = 0;
  const ids = new Set<string>();
  const closed: { workflowId: string; runId: string }[] = [];
  let slowest: { latency: number; workflowId: string; runId: string } | undefined;
  for await (const wf of client.workflow.list({
    query: `WorkflowType = 'ImportTour' AND StartTime >= '${startedAt.toISOString()}'`,
  })) {
    if (!wf.workflowId.startsWith(`tour:${operatorId}:`)) continue;
    count++;
    ids.add(wf.workflowId);
    if (!wf.closeTime) continue;
    const latency = wf.closeTime.getTime() - wf.startTime.getTime();
    latenciesMs.push(latency);
    closed.push({ workflowId: wf.workflowId, runId: wf.runId });
    if (latency > (slowest?.latency ?? 0)) slowest = { latency, workflowId: wf.workflowId, runId: wf.runId };
  }
  return { latenciesMs, count, ids, closed, slowest };
}

async function saveHistory(
  client: Client,
  wf: { workflowId: string; runId: string },
  dataDir: string,
  label: string,
): Promise<void> {
  const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
  writeFileSync(path.join(dataDir, `history-${label}.json`), JSON.stringify(h));
}

/** Every run of the parent (continue-as-new makes several), its history kept in the run's folder. */
async function parentRuns(client: Client, workflowId: string, dataDir: string, slug: string) {
  const runs: { runId: string; events: number; bytes: number }[] = [];
  const histories: proto.temporal.api.history.v1.IHistory[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
    histories.push(history);
    // Kept for reading an import's timeline afterwards (`temporal workflow show` needs the server).
    writeFileSync(path.join(dataDir, `history-${slug}-${wf.runId}.json`), JSON.stringify(history));
    runs.push({
      runId: wf.runId,
      events: history.events?.length ?? 0,
      bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
    });
  }
  return { runs, histories };
}

/** Tour images the import wrote (tour_assets rows of the operator's tours it updated). */
async function imageSlotsWritten(pool: pg.Pool, operatorId: string, since: Date): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
      WHERE t.operator_id = $1 AND t.updated_at >= $2`,
    [operatorId, since],
  );
  return rows[0].n;
}
