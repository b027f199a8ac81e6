/**
 * Server-wide clock: the operators' time. Mutations stamp tours with `now()` so a change always
 * sorts after everything before it, even when two happen within the same millisecond.
 *
 * Tests move it forward with `advance()` instead of sleeping, to play out a scan that takes
 * minutes at the operator (stamps and `Date` headers) in a few milliseconds of real time.
 */
export class MonotonicClock {
  private last = 0;
  private offsetMs = 0;

  /** A fresh stamp, strictly later than every earlier one. */
  now(): number {
    this.last = Math.max(this.current(), this.last + 1);
    return this.last;
  }

  /** The operator's time now, for reading only (a `Date` header): never earlier than a stamp. */
  time(): number {
    return Math.max(this.current(), this.last);
  }

  /** Moves the operator's time forward; never back, so stamps stay in order. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only move forward, got ${ms} ms`);
    this.offsetMs += ms;
  }

  /** How far the operator's time runs ahead of real time. */
  get offset(): number {
    return this.offsetMs;
  }

  private current(): number {
    return Date.now() + this.offsetMs;
  }
}
