import type { Dialect } from './operators.js';
import { seededRng, type Rng } from './prng.js';

/**
 * The fault schedule a seed stands for: pure, so the same seed, length and stack give the same schedule on
 * any machine (what runs between the faults is still up to the machine: a seed fixes the schedule, not
 * every interleaving).
 */

const OPERATOR_FAULTS = ['operator-5xx', 'operator-429', 'slow-images', 'truncated-images'] as const;
const PROCESS_FAULTS = ['kill-worker', 'kill-temporal', 'kill-s3', 'restart-postgres'] as const;
export const FAULT_KINDS = [...OPERATOR_FAULTS, ...PROCESS_FAULTS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
type ProcessFault = (typeof PROCESS_FAULTS)[number];

export type SimRoute = 'list' | 'detail' | 'image';

/** One fault: from `at` (ms after the workload began) for `forMs`, then undone or brought back. */
export interface FaultEvent {
  at: number;
  kind: FaultKind;
  forMs: number;
  /** An operator id, a worker's name, or the server's: temporal, s3, postgres. */
  target: string;
  /** Operator faults: the simulator's fault (tooling/simulator/types.ts) on one of its routes. */
  sim?: { route: SimRoute; fault: Record<string, unknown> };
}

export interface PlanInput {
  workloadMs: number;
  operators: { id: string; dialect: Dialect }[];
  workers: string[];
}

const SECOND = 1000;

export function planFaults(seed: number, input: PlanInput): FaultEvent[] {
  const rng = seededRng(seed).fork('faults');
  return [
    ...processFaults(rng.fork('processes'), input),
    ...operatorFaults(rng.fork('operators'), input),
  ].sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind));
}

/**
 * Kinds drawn from a bag that holds every kind once before any repeats: even a short run has each.
 */
function bag<T>(rng: Rng, kinds: readonly T[], extra: readonly T[]): () => T {
  let queue: T[] = rng.shuffled(kinds);
  return () => {
    if (!queue.length) queue = rng.shuffled([...kinds, ...extra]);
    return queue.shift()!;
  };
}

const DOWN_MS: Record<ProcessFault, [number, number]> = {
  'kill-worker': [1 * SECOND, 5 * SECOND],
  'kill-temporal': [2 * SECOND, 8 * SECOND],
  'kill-s3': [1 * SECOND, 6 * SECOND],
  'restart-postgres': [1 * SECOND, 5 * SECOND],
};

/** One process down at a time, with time between to recover: kills overlap operator faults, not each other. */
function processFaults(rng: Rng, input: PlanInput): FaultEvent[] {
  const next = bag<ProcessFault>(rng, PROCESS_FAULTS, ['kill-worker']);
  const out: FaultEvent[] = [];
  for (let at = 15 * SECOND + rng.int(0, 5 * SECOND); ;) {
    const kind = next();
    const [lo, hi] = DOWN_MS[kind];
    const forMs = rng.int(lo, hi);
    if (at + forMs > input.workloadMs - 15 * SECOND) return out;
    const target = kind === 'kill-worker' ? rng.pick(input.workers) : SERVER_OF[kind];
    out.push({ at, kind, forMs, target });
    at += forMs + rng.int(15 * SECOND, 28 * SECOND);
  }
}

const SERVER_OF: Record<Exclude<ProcessFault, 'kill-worker'>, string> = {
  'kill-temporal': 'temporal',
  'kill-s3': 's3',
  'restart-postgres': 'postgres',
};

/** Faults at the operators' APIs; two never overlap at one operator, so undoing one leaves no other undone. */
function operatorFaults(rng: Rng, input: PlanInput): FaultEvent[] {
  const next = bag(rng, OPERATOR_FAULTS, []);
  const busyUntil = new Map(input.operators.map((o) => [o.id, 0]));
  const out: FaultEvent[] = [];
  for (let at = 5 * SECOND + rng.int(0, 3 * SECOND); ; at += rng.int(4 * SECOND, 10 * SECOND)) {
    const kind = next();
    const forMs = rng.int(6 * SECOND, 18 * SECOND);
    if (at + forMs > input.workloadMs - 10 * SECOND) return out;
    const free = input.operators.filter((o) => busyUntil.get(o.id)! <= at);
    if (!free.length) continue;
    const op = rng.pick(free);
    busyUntil.set(op.id, at + forMs);
    out.push({ at, kind, forMs, target: op.id, sim: simFault(rng, kind, op.dialect) });
  }
}

function simFault(rng: Rng, kind: FaultKind, dialect: Dialect): FaultEvent['sim'] {
  const seed = rng.int(1, 1_000_000);
  const probability = Math.round(rng.between(0.3, 0.8) * 100) / 100;
  switch (kind) {
    case 'operator-5xx': {
      // Dialect B has no per-product endpoint (the soak's B serves only what its spec promises).
      const route = rng.pick<SimRoute>(dialect === 'B' ? ['list', 'image'] : ['list', 'detail', 'image']);
      const status = rng.pick([500, 502, 503]);
      return { route, fault: { type: 'error', status, probability, seed } };
    }
    case 'operator-429': {
      const route = rng.pick<SimRoute>(dialect === 'B' ? ['list'] : ['list', 'detail']);
      return { route, fault: { type: 'rate-limit', retryAfterSeconds: rng.int(1, 3), probability, seed } };
    }
    case 'slow-images':
      return rng.chance(0.5)
        ? { route: 'image', fault: { type: 'latency', ms: rng.int(800, 3000), probability, seed } }
        : {
            route: 'image',
            fault: { type: 'slow-drip', bytesPerInterval: 2048, intervalMs: 100, probability, seed },
          };
    default:
      return { route: 'image', fault: { type: 'truncate', probability, seed } };
  }
}

/** One line: when, what, where, for how long. */
export function describeFault(e: FaultEvent): string {
  const sim = e.sim ? ` ${e.sim.route} ${JSON.stringify(e.sim.fault)}` : '';
  return `${(e.at / SECOND).toFixed(1).padStart(7)}s ${e.kind} ${e.target}${sim} for ${(e.forMs / SECOND).toFixed(1)}s`;
}

export function countByKind(events: readonly FaultEvent[]): Record<FaultKind, number> {
  const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const e of events) counts[e.kind]++;
  return counts;
}
