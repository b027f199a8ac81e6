import { setTimeout as sleep } from 'node:timers/promises';

/** What a call raced against a deadline answers when the deadline came first. */
export const CUT = Symbol('deadline passed');

/** A time budget for a whole operation (the API's bound on a check): steps ask it before and while they run. */
export interface Deadline {
  passed(): boolean;
  race<T>(p: Promise<T>): Promise<T | typeof CUT>;
  /** Aborts when the deadline passes; undefined without one. */
  signal(): AbortSignal | undefined;
}

/** `ms` from now; undefined: no deadline at all. */
export function deadline(ms: number | undefined): Deadline {
  if (ms === undefined) return { passed: () => false, race: (p) => p, signal: () => undefined };
  const at = Date.now() + ms;
  const left = () => Math.max(0, at - Date.now());
  return {
    passed: () => left() === 0,
    // The call left behind still ends by its own timeout; nobody waits for it.
    async race(p) {
      const timer = new AbortController();
      try {
        return await Promise.race([p, sleep(left(), CUT, { signal: timer.signal })]);
      } finally {
        timer.abort();
      }
    },
    signal: () => AbortSignal.timeout(Math.max(1, left())),
  };
}
