import { listOperators } from '../src/db/operators.js';
import type { Pool } from '../src/db/pool.js';
import { listHeld } from '../src/db/removals.js';
import type { ProductApi } from './http.js';
import type { OperatorChanges } from './mutations.js';
import type { Rng } from './prng.js';

/** A held removal of a tour the soak never removed at its operator: the product wanted to remove a live tour. */
export interface WrongHold {
  operatorId: string;
  externalId: string;
  evidence: string;
  seenAt: string;
  phase: 'workload' | 'settle';
}

/**
 * How a person settles an operator's held removals from what they know they did: all of them removals
 * the soak made (and has not undone) → applied; otherwise discarded, the tours stay, and those the soak
 * never removed are counted as failures. (The API applies or discards them all: a discarded removal the
 * soak did make is found again by the next full import.) Pure.
 */
export function settleHeld(
  held: { externalId: string }[],
  removedNow: ReadonlySet<string>,
  wasEverRemoved: (code: string) => boolean,
): { apply: boolean; wrong: string[] } {
  return {
    apply: held.every((h) => removedNow.has(h.externalId)),
    wrong: held.filter((h) => !wasEverRemoved(h.externalId)).map((h) => h.externalId),
  };
}

/** A pause or resume the soak sent through the API (a pause's reason names it: `#n`). */
export interface PersonAction {
  operatorId: string;
  action: 'pause' | 'resume';
  reason?: string;
  at: number;
}

/** Pauses and resumes through the API as a person would, and resumes whatever paused itself. */
export class Person {
  readonly wrongHolds: WrongHold[] = [];
  readonly counts = { paused: 0, resumed: 0, removalsApplied: 0, removalsDiscarded: 0 };
  readonly actions: PersonAction[] = [];
  private pauses = 0;
  /** When the soak first saw each operator paused, and how long it lets it stay so. */
  private readonly patience = new Map<string, number>();

  constructor(
    private readonly api: ProductApi,
    private readonly pool: Pool,
    private readonly changes: OperatorChanges,
  ) {}

  /** One look at the operators: resume those paused long enough, or now and then pause one. */
  async act(rng: Rng, now = Date.now()): Promise<string[]> {
    const ops = await listOperators(this.pool);
    const done: string[] = [];
    for (const op of ops.filter((o) => o.paused)) {
      if (!this.patience.has(op.id)) this.patience.set(op.id, now + rng.int(5_000, 20_000));
      if (now >= this.patience.get(op.id)!) done.push(await this.resume(op.id, 'workload'));
    }
    const running = ops.filter((o) => !o.paused);
    if (!done.length && running.length && rng.chance(0.3)) {
      const op = rng.pick(running);
      const reason = `soak: paused by a person (#${++this.pauses})`;
      const at = Date.now();
      await this.api.pause(op.id, reason);
      this.actions.push({ operatorId: op.id, action: 'pause', reason, at });
      this.counts.paused++;
      done.push(`paused ${op.id}`);
    }
    return done;
  }

  /** Every paused operator resumed, its held removals settled (the settle phase). */
  async resumeAll(): Promise<string[]> {
    const paused = (await listOperators(this.pool)).filter((o) => o.paused);
    const done: string[] = [];
    for (const op of paused) done.push(await this.resume(op.id, 'settle'));
    return done;
  }

  private async resume(operatorId: string, phase: WrongHold['phase']): Promise<string> {
    const held = await listHeld(this.pool, operatorId);
    const { apply, wrong } = settleHeld(held, this.changes.removed(operatorId), (c) =>
      this.changes.wasEverRemoved(operatorId, c),
    );
    const seenAt = new Date().toISOString();
    for (const h of held.filter((x) => wrong.includes(x.externalId)))
      this.wrongHolds.push({ operatorId, externalId: h.externalId, evidence: h.evidence, seenAt, phase });
    const at = Date.now();
    await this.api.resume(operatorId, apply);
    this.actions.push({ operatorId, action: 'resume', at });
    this.patience.delete(operatorId);
    this.counts.resumed++;
    if (apply) this.counts.removalsApplied += held.length;
    else this.counts.removalsDiscarded += held.length;
    const settled = held.length ? ` (${held.length} held removals ${apply ? 'applied' : 'discarded'})` : '';
    return `resumed ${operatorId}${settled}`;
  }
}
