import type { Rng } from './prng.js';
import type { ProductApi, PushAnswer } from './http.js';
import type { OperatorChanges } from './mutations.js';

/** One attempt at a signed delivery and what the API answered: the checker's record of what was accepted. */
export interface DeliveryAttempt {
  webhookId: string;
  operatorId: string;
  tours: string[];
  startedAt: number;
  endedAt: number;
  /** HTTP status; 0: no answer. */
  status: number;
  outcome?: string;
  imports?: NonNullable<PushAnswer['body']['imports']>;
}

/** A sender retries what was not taken (503, 409, no answer) with the same webhook-id, a few times. */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];
const retried = (status: number) => status === 0 || status === 409 || status >= 500;

/**
 * Signed pushes as operators send them: single changes, bursts for one tour, a delivery sent twice, several
 * tours at once, tombstones pushed for removed tours, ids the operator does not know.
 */
export class Pushes {
  readonly attempts: DeliveryAttempt[] = [];
  readonly counts: Record<string, number> = {};
  private sent = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly api: ProductApi,
    private readonly seed: number,
    private readonly changes: OperatorChanges,
  ) {}

  /** Starts one push of a drawn kind; its retries run on in the background (see drain). */
  push(rng: Rng, op: string, active: readonly string[]): string {
    const recent = this.changes.recentlyChanged(op).filter((c) => active.includes(c));
    const tour = () => (recent.length && rng.chance(0.7) ? rng.pick(recent) : rng.pick(active));
    const removed = [...this.changes.removed(op)];
    const roll = rng.next();
    if (roll < 0.45) return this.start('single', () => this.deliver(op, this.newId(), [tour()]));
    if (roll < 0.6) return this.start('burst', () => this.burst(op, tour(), rng.int(3, 5)));
    if (roll < 0.72) return this.start('duplicate', () => this.duplicate(op, [tour()]));
    if (roll < 0.87) {
      const tours = [...new Set(Array.from({ length: rng.int(2, 5) }, tour))];
      return this.start('multi', () => this.deliver(op, this.newId(), tours));
    }
    if (roll < 0.93 && removed.length)
      return this.start('tombstone', () => this.deliver(op, this.newId(), [rng.pick(removed)]));
    // Many removals pushed at once go through the removal guard like a listing's.
    if (roll < 0.96 && removed.length > 1)
      return this.start('tombstone-burst', () => this.deliver(op, this.newId(), removed.slice(0, 10)));
    return this.start('unknown-tour', () =>
      this.deliver(op, this.newId(), [`unknown-${this.seed}-${this.sent}`]),
    );
  }

  /** Waits for every push and its retries. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** Deliveries whose every tour was started (202). */
  accepted(): DeliveryAttempt[] {
    return this.attempts.filter((a) => a.status === 202);
  }

  private start(kind: string, run: () => Promise<unknown>): string {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    const p: Promise<void> = run()
      .then(() => undefined)
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return kind;
  }

  private newId(): string {
    return `msg_soak_${this.seed}_${++this.sent}`;
  }

  private async burst(op: string, tour: string, n: number) {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      all.push(this.deliver(op, this.newId(), [tour]));
      await new Promise((r) => setTimeout(r, 150));
    }
    await Promise.all(all);
  }

  /** The same delivery twice: the second must start nothing (200 duplicate, or 409 while the first starts). */
  private async duplicate(op: string, tours: string[]) {
    const id = this.newId();
    await this.deliver(op, id, tours);
    await this.deliver(op, id, tours);
  }

  private async deliver(op: string, webhookId: string, tours: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const startedAt = Date.now();
      const answer = await this.api.push(op, webhookId, tours);
      this.attempts.push({
        webhookId,
        operatorId: op,
        tours,
        startedAt,
        endedAt: Date.now(),
        status: answer.status,
        outcome: answer.body.status,
        imports: answer.body.imports,
      });
      if (!retried(answer.status) || attempt >= RETRY_DELAYS_MS.length) return;
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}
