/**
 * Concurrent calls with the same key share one run: a photo that several tours of an import use is
 * fetched and resized once per process, not once per tour that happens to be in flight with it.
 * The entry goes when the run settles, so a later call (a retry, the next import) runs afresh.
 */
export function singleFlight<T>(): (key: string, run: () => Promise<T>) => Promise<T> {
  const running = new Map<string, Promise<T>>();
  return (key, run) => {
    const existing = running.get(key);
    if (existing) return existing;
    const started = run().finally(() => running.delete(key));
    running.set(key, started);
    return started;
  };
}
