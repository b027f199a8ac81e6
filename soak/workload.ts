import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { TASK_QUEUES, WORKFLOW_TYPES, importOperatorWorkflowId, operatorPriority } from '../src/constants.js';
import type { OperatorConfig } from '../src/operators/registry.js';
import { applySchedules } from '../src/schedules/apply.js';
import { applyHousekeepingSchedule } from '../src/schedules/housekeeping.js';
import type { ImportOperatorInput } from '../src/workflows/types.js';
import type { SimAdmin } from './http.js';
import type { OperatorChanges } from './mutations.js';
import type { Person } from './person.js';
import type { Rng } from './prng.js';
import type { Pushes } from './pushes.js';
import { HOUSEKEEPING_EVERY_MS } from './services.js';

/**
 * The workload under the faults: the operators' schedules and Housekeeping's run the imports; the soak
 * changes the catalogs at the operators, pushes signed changes, pauses and resumes as a person, and now
 * and then starts an import by hand with small pages and runs (paging, continue-as-new).
 */
export interface WorkloadDeps {
  client: Client;
  configs: OperatorConfig[];
  sim: SimAdmin;
  changes: OperatorChanges;
  pushes: Pushes;
  person: Person;
  seed: number;
  say: (line: string) => void;
  /** Every action, one line each (the run folder's workload.log). */
  logFile: string;
}

export interface WorkloadReport {
  adHocImports: number;
  bulkRemovals: number;
  /** Actions that failed (a server down at the time), by loop. */
  errors: Record<string, number>;
}

export async function startSchedules(client: Client, configs: OperatorConfig[]): Promise<void> {
  await applySchedules(client, configs);
  await applyHousekeepingSchedule(client, { everyMs: HOUSEKEEPING_EVERY_MS });
}

export async function runWorkload(
  d: WorkloadDeps,
  rng: Rng,
  until: number,
  stop: AbortSignal,
): Promise<WorkloadReport> {
  const report: WorkloadReport = { adHocImports: 0, bulkRemovals: 0, errors: {} };
  const ops = d.configs.map((c) => c.id);
  const log = (line: string) => appendFileSync(d.logFile, `${new Date().toISOString()} ${line}\n`);
  const loop = async (
    name: string,
    gap: [number, number],
    act: (r: Rng) => Promise<string | string[] | void>,
  ) => {
    const r = rng.fork(name);
    const pause = () => sleep(Math.min(r.int(...gap), until - Date.now()), stop);
    for (await pause(); Date.now() < until && !stop.aborted; await pause()) {
      try {
        const done = await act(r);
        for (const line of [done ?? []].flat()) log(`${name}: ${line}`);
      } catch (err) {
        report.errors[name] = (report.errors[name] ?? 0) + 1;
        log(`${name}: failed: ${(err as Error).message}`);
      }
    }
  };
  const start = Date.now();
  const bulkEvery = Math.max(60_000, (until - start) / 3);
  await Promise.all([
    loop('mutation', [1_500, 4_000], (r) => d.changes.mutate(r, r.pick(ops))),
    loop('push', [800, 2_500], async (r) => {
      const op = r.pick(ops);
      return d.pushes.push(r, op, await d.sim.activeCodes(op)) + ` ${op}`;
    }),
    loop('person', [6_000, 15_000], async (r) => {
      const done = await d.person.act(r);
      for (const line of done) d.say(`person: ${line}`);
      return done;
    }),
    loop('import', [10_000, 25_000], (r) => startAdHocImport(d, r, report, r.pick(ops))),
    loop('bulk-removal', [bulkEvery * 0.6, bulkEvery * 1.2], async (r) => {
      const line = await d.changes.bulkRemove(r, r.pick(ops), 6);
      report.bulkRemovals++;
      d.say(
        `workload: ${line.split(' ').slice(0, 2).join(' ')} (6 tours: the removal guard should hold them)`,
      );
      return line;
    }),
  ]);
  await d.pushes.drain();
  return report;
}

/**
 * An import started by hand (`temporal workflow start`) with settings of its own: pages and runs small
 * enough to page and continue as new, and retries few enough for its breaker to trip under the faults.
 */
async function startAdHocImport(d: WorkloadDeps, r: Rng, report: WorkloadReport, op: string) {
  const mode = r.chance(0.5) ? 'full' : 'delta';
  const input: ImportOperatorInput = {
    operatorId: op,
    mode,
    // Few attempts: under the operators' faults its tours fail, and its breaker trips and heals mid-run.
    settings: {
      toursPerRun: r.int(4, 9),
      pageSize: r.int(5, 12),
      retry: { initialIntervalMs: 250, maximumAttempts: 2 },
    },
  };
  const workflowId = `${importOperatorWorkflowId(op)}:soak-${d.seed}-${++report.adHocImports}`;
  await d.client.workflow.start(WORKFLOW_TYPES.importOperator, {
    taskQueue: TASK_QUEUES.tourImport,
    workflowId,
    args: [input],
    priority: operatorPriority(op),
  });
  return `started ${workflowId} (${mode}, ${JSON.stringify(input.settings)})`;
}

/** Resolves after `ms`, or at once when `stop` aborts. */
export function sleep(ms: number, stop: AbortSignal): Promise<void> {
  // Node's timer rejects when aborted (at once if already aborted): an abort here only ends the wait.
  return delay(Math.max(0, ms), undefined, { signal: stop }).catch(() => undefined);
}
