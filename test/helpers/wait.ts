/** Polls `fn` until it returns a truthy value, and returns it; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls a yes/no `check` until it holds. */
export async function until(
  check: () => Promise<boolean>,
  what = 'condition',
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(async () => (await check()) || undefined, timeoutMs, what);
}
