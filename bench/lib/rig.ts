/** What a measured import runs on: the worker processes, the product's schema and the Temporal client. */
import { execFileSync } from 'node:child_process';
import type pg from 'pg';
import type { Client } from '@temporalio/client';
import { commCpuMs, treeCpuMs } from './proc.js';
import type { SimHandle } from './sim.js';
import type { WorkerProcess } from './workers.js';

export interface ImportContext {
  workers: WorkerProcess[];
  /** Report label per worker process (its kind, or kind#n when several run). */
  names: string[];
  pool: pg.Pool;
  client: Client;
  serverPid: number;
}

/** Distinct sources with stored sizes in the schema (resizes done so far). */
async function countResized(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('SELECT count(DISTINCT sha256)::int AS n FROM asset_variants');
  return rows[0].n;
}

/**
 * Writes out the files earlier scenarios left in the page cache before the next one is measured:
 * the product fsyncs every blob it stores, and would otherwise pay for flushing the baselines' output.
 */
export function settle(): void {
  execFileSync('sync');
}

/**
 * Starts measuring an import on `ctx` (page cache flushed, peak RSS reset, counters zeroed); the function
 * returned stops it: wall time, resizes done, the simulator's counters and every process's CPU and peak RSS.
 */
export async function startMeasurement(ctx: ImportContext, sim: SimHandle) {
  const { workers, pool, serverPid } = ctx;
  settle();
  for (const w of workers) w.resetPeak();
  await sim.counters(true);
  const resized0 = await countResized(pool);
  const cpu0 = {
    w: workers.map((w) => w.cpuMs()),
    server: treeCpuMs(serverPid),
    pg: commCpuMs('postgres'),
    sim: treeCpuMs(sim.pid),
  };
  const t0 = performance.now();
  return async () => {
    const wallMs = performance.now() - t0;
    const usage = {
      processCpuMs: Object.fromEntries(ctx.names.map((n, i) => [n, workers[i].cpuMs() - cpu0.w[i]])),
      peakRssMb: Object.fromEntries(workers.map((w, i) => [ctx.names[i], w.peakRssMb()])),
      serverCpuMs: treeCpuMs(serverPid) - cpu0.server,
      pgCpuMs: Math.max(0, commCpuMs('postgres') - cpu0.pg),
      simCpuMs: treeCpuMs(sim.pid) - cpu0.sim,
      counters: await sim.counters(true),
    };
    return { wallMs, resized: (await countResized(pool)) - resized0, usage };
  };
}
