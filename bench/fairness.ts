/**
 * Scenario 8, fairness: a small operator's import alone, then beside a big operator's, on the product's
 * server (fair dispatch, `matching.enableFairness=true`) and on a second dev server in Temporal's default
 * configuration (fairness off), for comparison.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { SIGNALS } from '../src/constants.js';
import { freePort, startDevServer } from '../tooling/servers/dev-server.js';
import type { ImportOperatorResult, Progress } from '../src/workflows/types.js';
import type { Bench } from './lib/harness.js';
import { contextOf, measureImport, startPair, stopWorkers, type MeasuredImport } from './lib/imports.js';
import type { ImportContext } from './lib/rig.js';
import type { BenchReport, FairnessPhase } from './report.js';

type Setting = FairnessPhase['setting'];

/** The fairness figures of the phases that ran (none: the scenario was skipped). */
export const fairnessFigures = (bench: Bench, phases: FairnessPhase[]): BenchReport['fairness'] =>
  phases.length
    ? {
        bigTours: bench.size.fairBig,
        smallTours: bench.size.fairSmall,
        images: bench.size.fairImages,
        phases,
      }
    : undefined;

/** The phase on a second dev server in Temporal's default configuration, with workers of its own. */
export async function fairnessOnDefaultServer(bench: Bench): Promise<FairnessPhase> {
  const { cleanups } = bench;
  const defaultServer = await startDevServer({
    cli: bench.cli,
    port: await freePort(),
    logFile: path.join(bench.dataDir, 'temporal-default.log'),
    readyTimeoutMs: 120_000,
  });
  cleanups.add(() => defaultServer.stop());
  const workers = await startPair(
    bench,
    (e) => ({ ...e, TEMPORAL_ADDRESS: defaultServer.address }),
    'default',
  );
  const connection = await Connection.connect({ address: defaultServer.address });
  cleanups.add(() => connection.close());
  const client = new Client({ connection });
  const phase = await fairnessPhase(
    bench,
    'off',
    contextOf(workers, bench.pool, client, defaultServer.child.pid!),
  );
  await stopWorkers(workers);
  return phase;
}

/**
 * The small operator alone, then again (a fresh copy of its catalog) while the big one imports:
 * the big import is started first and given one window's worth of finished tours to reach its
 * steady state; it is terminated (children cancelled) once the small one is done.
 */
export async function fairnessPhase(
  bench: Bench,
  setting: Setting,
  ctx: ImportContext,
): Promise<FairnessPhase> {
  const { size, log } = bench;
  log(`fairness (${setting}): small operator alone, ${size.fairSmall} tours, ${size.fairRepeat} time(s)`);
  const alone = await smallImports(bench, ctx, setting, 'alone');
  log(`fairness (${setting}): big operator (${size.fairBig} tours) first, then the small one`);
  const big = await startBigImport(bench, ctx, setting);
  const b0 = { p: await big.progress(), t: performance.now() };
  const together = await smallImports(bench, ctx, setting, 'together');
  const b1 = { p: await big.progress(), t: performance.now() };
  const bigStillRunning = finished(b1.p) < size.fairBig;
  await big.handle.terminate('fairness measured').catch(() => undefined);
  const roomRequests = (await big.handle.fetchHistory()).events?.filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === SIGNALS.makeRoom,
  ).length;
  await drainChildren(ctx.client);
  const [a, t] = [alone.median.figures, together.median.figures];
  const phase: FairnessPhase = {
    setting,
    aloneMs: a.wallMs,
    togetherMs: t.wallMs,
    ratio: t.wallMs / a.wallMs,
    aloneRunsMs: alone.wallMs,
    togetherRunsMs: together.wallMs,
    aloneP95Ms: a.p95Ms,
    togetherP95Ms: t.p95Ms,
    bigToursPerSecDuring: (finished(b1.p) - finished(b0.p)) / ((b1.t - b0.t) / 1000),
    bigStillRunning,
    roomRequests,
    alone: a,
    together: t,
  };
  log(
    `fairness (${setting}): small alone ${(phase.aloneMs / 1000).toFixed(1)} s, with big ` +
      `${(phase.togetherMs / 1000).toFixed(1)} s → ×${phase.ratio.toFixed(2)}; big ran at ` +
      `${phase.bigToursPerSecDuring.toFixed(1)} tours/s meanwhile${bigStillRunning ? '' : ' (and FINISHED first)'}; ` +
      `it was asked to make room ${roomRequests} time(s)`,
  );
  return phase;
}

const finished = (p: Progress) => p.done + p.unchanged + p.failed + p.removed;

/**
 * The small import is short, so one measurement is noisy: each side is the median of a few imports of
 * fresh copies of the same catalog.
 */
async function smallImports(bench: Bench, ctx: ImportContext, setting: Setting, side: 'alone' | 'together') {
  const { size } = bench;
  const runs: MeasuredImport[] = [];
  for (let i = 0; i < size.fairRepeat; i++) {
    // The copies of the small catalog share its photos: the first import would resize them and
    // the others find every size stored. Forgetting the sizes before each import gives every copy
    // the work of a fresh catalog (the files are rewritten in place).
    if (size.fairImages > 0)
      await ctx.pool.query(
        `DELETE FROM asset_variants WHERE sha256 IN (SELECT ta.sha256 FROM tour_assets ta
           JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id LIKE 'small-%')`,
      );
    const run = await measureImport(bench, ctx, {
      name: `fairness ${setting}: small ${side} #${i + 1}`,
      operatorId: `small-${setting}-${side}-${i}`,
      mode: 'full',
    });
    mustComplete(run.result, side);
    runs.push(run);
  }
  runs.sort((a, b) => a.figures.wallMs - b.figures.wallMs);
  return { median: runs[Math.floor(runs.length / 2)], wallMs: runs.map((r) => r.figures.wallMs) };
}

function mustComplete(r: ImportOperatorResult, what: string): void {
  if (r.status !== 'completed' || r.progress.failed > 0)
    throw new Error(`fairness ${what}: ${JSON.stringify(r)}`);
}

/** The big import, started and past its first window of finished tours (its steady state). */
async function startBigImport(
  bench: Bench,
  ctx: ImportContext,
  setting: Setting,
): Promise<{ handle: WorkflowHandle; progress: () => Promise<Progress> }> {
  const { window } = bench.size;
  const handle = await ctx.client.workflow.start('ImportOperator', {
    taskQueue: 'tour-import',
    workflowId: `bench-fair-big-${setting}-${randomBytes(3).toString('hex')}`,
    args: [{ operatorId: `big-${setting}`, mode: 'full', settings: { window } }],
  });
  const progress = () => handle.query<Progress>('progress');
  const deadline = Date.now() + 120_000;
  while (finished(await progress()) < window) {
    if (Date.now() > deadline) throw new Error('fairness: the big import made no progress in 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { handle, progress };
}

/** Lets the cancelled children drain before anything else is measured (terminating any left after 60 s). */
async function drainChildren(client: Client): Promise<void> {
  const drainBy = Date.now() + 60_000;
  for (;;) {
    let running = 0;
    for await (const wf of client.workflow.list({
      query: `WorkflowType = 'ImportTour' AND ExecutionStatus = 'Running'`,
    })) {
      running++;
      if (Date.now() > drainBy)
        await client.workflow
          .getHandle(wf.workflowId)
          .terminate()
          .catch(() => 0);
    }
    if (!running) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}
