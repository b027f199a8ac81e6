/**
 * The orchestration floor: what a parent with one child workflow per item, each child running one no-op
 * activity on another task queue, costs the Temporal server and the workflow worker per child, with no
 * work at all in the activities (bench/floor/workflows.ts). ImportOperator and ImportTour have this shape
 * plus their own steps, so no change inside them can take the orchestration CPU per tour below it; with
 * ImportTour's old two local activities beside it, for what folding them into one activity saved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { stopChild } from '../tooling/servers/dev-server.js';
import type { FloorParent, FloorShape } from './floor/workflows.js';
import { ROOT } from './lib/common.js';
import type { Bench } from './lib/harness.js';
import type { ImportContext } from './lib/rig.js';
import { treeCpuMs } from './lib/proc.js';

export interface FloorRun {
  shape: FloorShape;
  children: number;
  window: number;
  wallMs: number;
  /** CPU per child, ms. */
  serverMs: number;
  workflowWorkerMs: number;
  activityWorkerMs: number;
}

export interface FloorFigures {
  /** One remote activity per child (the least a child with an activity can be). */
  oneActivity: FloorRun;
  /** Plus two local activities around it (ImportTour before #17: fetch, images, persist). */
  withLocalActivities: FloorRun;
}

/** Server plus workflow worker CPU per child of a floor run: the floor under "orchestration CPU". */
export const floorMsPerChild = (r: FloorRun) => r.serverMs + r.workflowWorkerMs;

async function orchestrationFloor(o: {
  client: Client;
  address: string;
  serverPid: number;
  children: number;
  window: number;
  dataDir: string;
  log: (line: string) => void;
}): Promise<FloorFigures> {
  const workflows = await startFloorWorker('workflows', o.address, o.dataDir);
  const activities = await startFloorWorker('remote', o.address, o.dataDir);
  try {
    const run = async (shape: FloorShape): Promise<FloorRun> => {
      const cpu = () => [o.serverPid, workflows.pid!, activities.pid!].map(treeCpuMs);
      const before = cpu();
      const t0 = Date.now();
      await o.client.workflow.execute<typeof FloorParent>('FloorParent', {
        taskQueue: 'floor',
        workflowId: `floor-${shape.localActivities}-${t0}`,
        args: [{ children: o.children, window: o.window, shape }],
      });
      const [server, workflow, activity] = cpu().map((v, i) => (v - before[i]) / o.children);
      const r = {
        shape,
        children: o.children,
        window: o.window,
        wallMs: Date.now() - t0,
        serverMs: server,
        workflowWorkerMs: workflow,
        activityWorkerMs: activity,
      };
      o.log(
        `orchestration floor (${shape.localActivities} local activities): ${o.children} children, ` +
          `server ${server.toFixed(1)} + workflow worker ${workflow.toFixed(1)} ms CPU per child`,
      );
      return r;
    };
    // A warm-up run first: the worker bundles and the first workflows compile.
    await run({ localActivities: 0 });
    return {
      oneActivity: await run({ localActivities: 0 }),
      withLocalActivities: await run({ localActivities: 2 }),
    };
  } finally {
    await stopChild(workflows);
    await stopChild(activities);
  }
}

async function startFloorWorker(
  kind: 'workflows' | 'remote',
  address: string,
  dataDir: string,
): Promise<ChildProcess> {
  const log = path.join(dataDir, `worker-floor-${kind}.log`);
  const out = openSync(log, 'a');
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['bench/floor/worker.ts', kind, address], {
    cwd: ROOT,
    stdio: ['ignore', out, out],
  });
  const deadline = Date.now() + 120_000;
  while (!readFileSync(log, 'utf8').includes('worker started')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`floor ${kind} worker did not start; see ${log}`);
    await sleep(200);
  }
  return child;
}

/** The floor on the bench's server, with the import's window (200 children; 40 in the smoke run). */
export const floorScenario = (bench: Bench, ctx: ImportContext) =>
  orchestrationFloor({
    client: ctx.client,
    address: bench.server.address,
    serverPid: bench.server.pid,
    children: bench.options.smoke ? 40 : 200,
    window: bench.size.window,
    dataDir: bench.dataDir,
    log: bench.log,
  });
