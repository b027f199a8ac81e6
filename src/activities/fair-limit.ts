/**
 * A concurrency limit shared fairly between keys: when a slot frees, the key that waited longest
 * since it last got one goes next (round robin), whatever the number of calls each key has queued.
 * The image worker uses it for resizes with the operator's fairness key, so the resizes a big import
 * has queued in this worker do not hold back a small import's — the same rule the Temporal server
 * applies to the task queue with `matching.enableFairness`.
 */
export function fairLimit(concurrency: number) {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`fairLimit: concurrency must be a positive integer, not ${concurrency}`);
  let active = 0;
  // Keys in turn order: a key that is served moves to the back if it still has calls waiting.
  const waiting = new Map<string, (() => void)[]>();

  function next() {
    while (active < concurrency && waiting.size > 0) {
      const [key, queue] = waiting.entries().next().value!;
      waiting.delete(key);
      const start = queue.shift()!;
      if (queue.length) waiting.set(key, queue);
      active++;
      start();
    }
  }

  return async function limited<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      const queue = waiting.get(key);
      if (queue) queue.push(resolve);
      else waiting.set(key, [resolve]);
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
