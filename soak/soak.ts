import { setMaxListeners } from 'node:events';
import { existsSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TASK_QUEUES } from '../src/constants.js';
import type { SoakArgs } from './args.js';
import { checkInvariants, readOperatorTruth, type InvariantResult } from './checker/index.js';
import { countByKind, describeFault, planFaults, type FaultEvent } from './fault-plan.js';
import { runFaults } from './faults.js';
import { productApi, simAdmin, type SimAdmin } from './http.js';
import { OperatorChanges } from './mutations.js';
import { SOAK_OPERATORS, webhookSecretEnv } from './operators.js';
import { Person } from './person.js';
import type { Cleanup } from './processes.js';
import { seededRng } from './prng.js';
import { Pushes } from './pushes.js';
import { printSummary, progressPrinter, writeResults } from './report.js';
import { IMAGE_SIZES } from './services.js';
import { fullImportOfEach, settle, type FinalImport } from './settle.js';
import { startStack, type Stack } from './stack.js';
import { runWorkload, startSchedules } from './workload.js';

/**
 * One soak: the production shape started, the workload and the seed's fault schedule for the given
 * minutes, the settle phase, then every invariant checked. Resolves whether all of them held.
 */
export async function runSoak(args: SoakArgs, runDir: string, cleanup: Cleanup): Promise<boolean> {
  const t0 = Date.now();
  const say = progressPrinter(t0);
  const drawn = args.seedDrawn ? ' (drawn at random)' : '';
  say(`seed ${args.seed}${drawn}, ${args.minutes} minutes; run folder ${runDir}`);
  const stack = await startStack(runDir, args.seed, cleanup, say);
  const workloadMs = Math.round(args.minutes * 60_000);
  const plan = planFaults(args.seed, { workloadMs, operators: SOAK_OPERATORS, workers: stack.workers });
  const scheduleFile = path.join(runDir, 'fault-schedule.txt');
  writeFileSync(scheduleFile, plan.map(describeFault).join('\n') + '\n');
  const planned = Object.entries(countByKind(plan)).map(([k, n]) => `${k} ${n}`);
  say(`fault schedule: ${plan.length} faults (${planned.join(', ')}); ${scheduleFile}`);

  const sim = simAdmin(stack.sim.url);
  const api = productApi({ ...stack.api, secret: (op) => stack.secrets[webhookSecretEnv(op)]! });
  const operatorIds = stack.configs.map((c) => c.id);
  const changes = new OperatorChanges(sim, operatorIds);
  const actors = {
    sim,
    changes,
    pushes: new Pushes(api, args.seed, changes),
    person: new Person(api, stack.pool, changes),
  };
  // The first import of every catalog before the clock starts: the minutes go to changes and faults.
  for (const w of await fullImportOfEach(stack.client, operatorIds, `soak-${args.seed}-warm-up`))
    say(`warm-up: full import of ${w.operatorId}: ${w.status} (${w.message})`);
  const { injected, workload } = await underFaults(stack, actors, { args, plan, workloadMs, runDir, say });
  const finalImports = await settle({ ...stack, ...actors, operatorIds, seed: args.seed, say });
  say('checking the invariants');
  const results = await check(stack, { ...actors, finalImports });
  const summary = {
    ...{ seed: args.seed, minutes: args.minutes, runDir, workloadMs, totalMs: Date.now() - t0 },
    ...{ plan, injected, unexpectedExits: stack.unexpectedExits, results },
    // What the checker held the state against, for whoever looks into a failure.
    evidence: {
      personActions: actors.person.actions,
      notifications: stack.receiver.received,
      deliveries: actors.pushes.attempts,
    },
    workload: {
      'catalog mutations': changes.counts,
      pushes: actors.pushes.counts,
      'push answers': answers(actors.pushes),
      person: actors.person.counts,
      'imports started by hand': workload.adHocImports,
      'bulk removals': workload.bulkRemovals,
      'actions that failed (a server down)': workload.errors,
    },
  };
  writeResults(summary);
  printSummary(summary);
  return results.every((r) => r.passed);
}

interface Actors {
  sim: SimAdmin;
  changes: OperatorChanges;
  pushes: Pushes;
  person: Person;
}

/** The schedules started, then the workload and the fault schedule side by side until both are over. */
async function underFaults(
  stack: Stack,
  a: Actors,
  o: { args: SoakArgs; plan: FaultEvent[]; workloadMs: number; runDir: string; say: (line: string) => void },
) {
  await startSchedules(stack.client, stack.configs);
  const t0 = Date.now();
  o.say('workload and faults begin');
  const stop = new AbortController();
  // Every pending fault and loop waits on it at once.
  setMaxListeners(0, stop.signal);
  // The operators' catalogs live in the simulator: without it there is nothing left to hold anything against.
  const simulatorGone = setInterval(() => {
    if (!stack.unexpectedExits.some((e) => e.name === 'simulator') || stop.signal.aborted) return;
    o.say('!! the simulator is gone: the workload and the faults stop now');
    stop.abort();
  }, 1_000);
  const deps = {
    ...stack,
    ...a,
    seed: o.args.seed,
    say: o.say,
    logFile: path.join(o.runDir, 'logs', 'workload.log'),
  };
  const [injected, workload] = await Promise.all([
    runFaults({ plan: o.plan, t0, sim: a.sim, parts: stack.parts, say: o.say, stop: stop.signal }),
    runWorkload(deps, seededRng(o.args.seed).fork('workload'), t0 + o.workloadMs, stop.signal),
  ]);
  clearInterval(simulatorGone);
  o.say(`workload and faults over after ${((Date.now() - t0) / 60_000).toFixed(1)} minutes`);
  return { injected, workload };
}

async function check(
  stack: Stack,
  known: { pushes: Pushes; person: Person; finalImports: FinalImport[] },
): Promise<InvariantResult[]> {
  const truth = await readOperatorTruth(stack.configs, (name) => stack.secrets[name]);
  return checkInvariants({
    pool: stack.pool,
    store: stack.store,
    client: stack.client,
    taskQueue: TASK_QUEUES.tourImport,
    images: IMAGE_SIZES,
    truth,
    deliveries: known.pushes.attempts,
    notifications: stack.receiver.received,
    wrongHolds: known.person.wrongHolds,
    personActions: known.person.actions,
    unexpectedExits: stack.unexpectedExits,
    finalImports: known.finalImports,
  });
}

/** How the API answered the pushes, by status. */
function answers(pushes: Pushes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of pushes.attempts) {
    const key = a.status === 0 ? 'no answer' : `${a.status}${a.outcome ? ` ${a.outcome}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The data a passing run leaves behind is of no use; its logs and results stay. */
export function removeRunData(runDir: string): void {
  const cluster = path.join(runDir, 'pg');
  if (existsSync(cluster)) rmSync(realpathSync(cluster), { recursive: true, force: true });
  for (const dir of ['pg', 's3', 'procs', 'workflow-bundle.js'])
    rmSync(path.join(runDir, dir), { recursive: true, force: true });
}
