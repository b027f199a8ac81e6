/**
 * Server-wide monotonic millisecond clock. Mutations stamp tours with its value so a change always
 * sorts after everything before it, even when two happen within the same millisecond.
 */
export class MonotonicClock {
  private last = 0;
  now(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}
