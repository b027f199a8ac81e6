import { setTimeout as delay } from 'node:timers/promises';
import { countByKind, describeFault, type FaultEvent, type FaultKind } from './fault-plan.js';
import type { SimAdmin } from './http.js';
import type { Part } from './processes.js';
import { sleep } from './workload.js';

/** What one fault did: when it really began, and how long its part took to come back. */
export interface InjectedFault {
  event: FaultEvent;
  startedAt: number;
  /** Process faults: ms from the start call until the part was ready again. */
  backInMs?: number;
  error?: string;
}

const sleepUntil = (t: number, stop: AbortSignal) => sleep(t - Date.now(), stop);

/**
 * Runs the schedule from `t0`: operator faults are set at the simulator and cleared after their time;
 * process faults take their part down and start it again, one at a time. Resolves once every fault
 * has been undone (an abort skips those not yet begun, and still undoes those that have).
 */
export async function runFaults(o: {
  plan: FaultEvent[];
  t0: number;
  sim: SimAdmin;
  parts: Map<string, Part>;
  say: (line: string) => void;
  stop: AbortSignal;
}): Promise<InjectedFault[]> {
  const injected: InjectedFault[] = [];
  const operatorFaults = o.plan.filter((e) => e.sim);
  const processFaults = o.plan.filter((e) => !e.sim);
  const atOperators = Promise.all(
    operatorFaults.map(async (event) => {
      await sleepUntil(o.t0 + event.at, o.stop);
      if (o.stop.aborted) return;
      const record: InjectedFault = { event, startedAt: Date.now() };
      injected.push(record);
      await operatorFault(o, event).catch((err: Error) => (record.error = err.message));
    }),
  );
  for (const event of processFaults) {
    await sleepUntil(o.t0 + event.at, o.stop);
    if (o.stop.aborted) break;
    const record: InjectedFault = { event, startedAt: Date.now() };
    injected.push(record);
    await processFault(o, event, record).catch((err: Error) => {
      record.error = err.message;
      o.say(`!! ${event.target} did not come back: ${err.message}`);
    });
  }
  await atOperators;
  return injected.sort((a, b) => a.startedAt - b.startedAt);
}

async function operatorFault(o: { sim: SimAdmin; say: (l: string) => void; t0: number }, e: FaultEvent) {
  const { route, fault } = e.sim!;
  await o.sim.addFault(e.target, route, fault);
  o.say(`fault ${describeFault(e).trim()}`);
  // Not cut short by an abort: a fault once set is always cleared.
  await delay(e.forMs);
  await o.sim.clearFaults(e.target, route);
}

async function processFault(
  o: { parts: Map<string, Part>; say: (l: string) => void },
  e: FaultEvent,
  record: InjectedFault,
) {
  const part = o.parts.get(e.target);
  if (!part) throw new Error(`no part named ${e.target}`);
  await part.down();
  o.say(`fault ${describeFault(e).trim()}: ${e.kind === 'restart-postgres' ? 'stopped' : 'SIGKILLed'}`);
  await delay(e.forMs);
  const started = Date.now();
  await part.start();
  record.backInMs = Date.now() - started;
  o.say(`back  ${e.target} (ready ${(record.backInMs / 1000).toFixed(1)} s after its start)`);
}

/** Faults injected, by kind (those that failed to apply not counted). */
export function injectedByKind(injected: readonly InjectedFault[]): Record<FaultKind, number> {
  return countByKind(injected.filter((i) => !i.error).map((i) => i.event));
}
