import { DEFAULT_PRIORITY_KEY } from '../constants.js';

/**
 * A concurrency limit shared fairly between keys: when a slot frees, the key that waited longest
 * since it last got one goes next (round robin), whatever the number of calls each key has queued —
 * unless another key's next call has a lower priority key (1 goes before 3), which goes first.
 * The image worker uses it for resizes with the operator's fairness key and the activity's priority
 * key, so the resizes a big import has queued in this worker do not hold back a small import's — the
 * same rule the Temporal server applies to the task queue with `matching.enableFairness`.
 */
export function fairLimit(concurrency: number) {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`fairLimit: concurrency must be a positive integer, not ${concurrency}`);
  let active = 0;
  // Keys in turn order: a key that is served moves to the back if it still has calls waiting.
  const waiting = new Map<string, { priorityKey: number; start: () => void }[]>();

  function next() {
    while (active < concurrency && waiting.size > 0) {
      let key = '';
      let best = Infinity;
      for (const [k, queue] of waiting)
        if (queue[0].priorityKey < best) [key, best] = [k, queue[0].priorityKey];
      const queue = waiting.get(key)!;
      waiting.delete(key);
      const { start } = queue.shift()!;
      if (queue.length) waiting.set(key, queue);
      active++;
      start();
    }
  }

  return async function limited<T>(
    key: string,
    fn: () => Promise<T>,
    priorityKey = DEFAULT_PRIORITY_KEY,
  ): Promise<T> {
    await new Promise<void>((start) => {
      const queue = waiting.get(key);
      if (queue) queue.push({ priorityKey, start });
      else waiting.set(key, [{ priorityKey, start }]);
      next();
    });
    try {
      return await fn();
    } finally {
      active--;
      next();
    }
  };
}
