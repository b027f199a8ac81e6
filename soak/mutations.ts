import type { Rng } from './prng.js';
import type { SimAdmin } from './http.js';

/**
 * Catalog mutations at the operators, and what the soak knows it did: which tours it removed (and has
 * not offered again since), which it ever removed, which it touched lately (what its pushes are about).
 */
export class OperatorChanges {
  private readonly removedNow = new Map<string, Set<string>>();
  private readonly everRemoved = new Map<string, Set<string>>();
  private readonly recent = new Map<string, string[]>();
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly sim: SimAdmin,
    operatorIds: string[],
  ) {
    for (const id of operatorIds) {
      this.removedNow.set(id, new Set());
      this.everRemoved.set(id, new Set());
      this.recent.set(id, []);
    }
  }

  /** Tours of `op` the soak removed and has not offered again. */
  removed(op: string): ReadonlySet<string> {
    return this.removedNow.get(op)!;
  }

  wasEverRemoved(op: string, code: string): boolean {
    return this.everRemoved.get(op)!.has(code);
  }

  /** The tours of `op` changed last, newest first. */
  recentlyChanged(op: string): readonly string[] {
    return this.recent.get(op)!;
  }

  /** One mutation drawn by weight: changed titles, images swapped or shared ones replaced, removals, re-activations, new tours. */
  async mutate(rng: Rng, op: string): Promise<string> {
    const active = await this.sim.activeCodes(op);
    const removed = [...this.removed(op)];
    const roll = rng.next();
    if (roll < 0.35) return this.change(op, rng.pick(active));
    if (roll < 0.5 && active.length > 15) return this.remove(op, [rng.pick(active)]);
    if (roll < 0.6 && removed.length) return this.restore(op, rng.pick(removed));
    if (roll < 0.7) return this.add(op, rng.int(1, 2));
    return this.replaceImage(rng, op, rng.pick(active), roll < 0.85);
  }

  /** More removals at once than the removal guard lets through: held for a person. */
  async bulkRemove(rng: Rng, op: string, count: number): Promise<string> {
    const active = await this.sim.activeCodes(op);
    return this.remove(op, rng.shuffled(active).slice(0, Math.min(count, active.length - 10)));
  }

  private async change(op: string, code: string) {
    await this.sim.change(op, code);
    return this.note(op, 'changed', [code]);
  }

  private async remove(op: string, codes: string[]) {
    for (const code of codes) {
      await this.sim.remove(op, code);
      this.removedNow.get(op)!.add(code);
      this.everRemoved.get(op)!.add(code);
    }
    return this.note(op, codes.length > 1 ? 'bulk-removed' : 'removed', codes);
  }

  private async restore(op: string, code: string) {
    await this.sim.restore(op, code);
    this.removedNow.get(op)!.delete(code);
    return this.note(op, 're-activated', [code]);
  }

  private async add(op: string, count: number) {
    const tours = await this.sim.add(op, count);
    return this.note(
      op,
      'added',
      tours.map((t) => t.code),
    );
  }

  /** Same URL: a shared photo's bytes change for every tour using it. New URL: this tour's photo is swapped. */
  private async replaceImage(rng: Rng, op: string, code: string, sameUrl: boolean) {
    const tour = await this.sim.tour(op, code);
    if (!tour.images.length) return this.change(op, code);
    await this.sim.replaceImage(op, code, rng.int(0, tour.images.length - 1), !sameUrl);
    return this.note(op, sameUrl ? 'shared-image-replaced' : 'image-swapped', [code]);
  }

  private note(op: string, what: string, codes: string[]): string {
    this.counts[what] = (this.counts[what] ?? 0) + codes.length;
    const recent = this.recent.get(op)!;
    recent.unshift(...codes);
    recent.splice(20);
    return `${what} ${op} ${codes.join(',')}`;
  }
}
