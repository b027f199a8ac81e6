import { prng } from './hash.js';
import { FaultsSchema, ROUTES, type Fault, type Faults, type FaultsInput, type RouteKey } from './types.js';

interface TriggerState {
  seen: number;
  fired: number;
  rnd: () => number;
}

/** The faults configured for one operator, with the counters that make them fire deterministically. */
export class FaultBook {
  private faults: Faults = {};
  private triggers = new Map<Fault, TriggerState>();
  readonly requests: Record<RouteKey, number> = { list: 0, detail: 0, image: 0 };

  constructor(initial: FaultsInput = {}) {
    this.set(initial);
  }

  set(input: FaultsInput): Faults {
    this.faults = FaultsSchema.parse(input);
    this.triggers.clear();
    return this.faults;
  }

  /** Adds to one route's faults, keeping the others. */
  add(route: RouteKey, input: FaultsInput[RouteKey]): Faults {
    const merged = { ...this.faults, [route]: [...(this.faults[route] ?? []), ...(input ?? [])] };
    return this.set(merged);
  }

  clear(route?: RouteKey): void {
    if (route) this.set({ ...this.faults, [route]: [] });
    else this.set({});
  }

  current(): Faults {
    return this.faults;
  }

  resetCounters(): void {
    this.triggers.clear();
    for (const r of ROUTES) this.requests[r] = 0;
  }

  /** Counts the request and returns the faults that fire for it, in configured order. */
  draw(route: RouteKey): Fault[] {
    this.requests[route] += 1;
    return (this.faults[route] ?? []).filter((f) => this.fires(f));
  }

  private fires(f: Fault): boolean {
    let st = this.triggers.get(f);
    if (!st) {
      st = { seen: 0, fired: 0, rnd: prng(f.seed ?? 1) };
      this.triggers.set(f, st);
    }
    st.seen += 1;
    const n = st.seen - (f.after ?? 0);
    if (n <= 0) return false;
    if (f.times !== undefined && st.fired >= f.times) return false;
    if (f.everyNth !== undefined && n % f.everyNth !== 0) return false;
    if (f.probability !== undefined && st.rnd() >= f.probability) return false;
    st.fired += 1;
    return true;
  }
}

export function findFault<T extends Fault['type']>(
  fired: Fault[],
  type: T,
): Extract<Fault, { type: T }> | undefined {
  return fired.find((f): f is Extract<Fault, { type: T }> => f.type === type);
}

/** Breaks a body so a parser fails on it, while status and headers still look fine. */
export function corrupt(body: Buffer): Buffer {
  const keep = Math.max(1, Math.floor(body.length * 0.6));
  if (body.length > 2 && body[0] === 0xff && body[1] === 0xd8) {
    // JPEG: keep the markers a sniffer looks at, replace the scan with junk and no end marker.
    const junk = Buffer.alloc(body.length - Math.min(400, body.length));
    const rnd = prng(body.length);
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rnd() * 256);
    return Buffer.concat([body.subarray(0, Math.min(400, body.length)), junk]);
  }
  return Buffer.concat([body.subarray(0, keep), Buffer.from('\u0000<<garbage ]]}', 'utf8')]);
}
