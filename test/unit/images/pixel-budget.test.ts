import { describe, expect, it } from 'vitest';
import { createPixelBudget } from '../../../src/images/pixel-budget.js';

const MP = 1_000_000;
/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

/** Which of these acquisitions have been granted so far. */
function tracker(promises: Promise<() => void>[]) {
  const granted = new Map<number, () => void>();
  promises.forEach(
    (p, i) =>
      void p.then(
        (release) => granted.set(i, release),
        () => undefined,
      ),
  );
  return granted;
}

describe('createPixelBudget', () => {
  it('runs small images together and holds a large one back until enough pixels are given back', async () => {
    const budget = createPixelBudget(50 * MP);
    const granted = tracker([
      budget.acquire(24 * MP),
      budget.acquire(24 * MP),
      budget.acquire(24 * MP),
      budget.acquire(2 * MP),
    ]);
    await settle();
    // Two 24 MP decodes fit in 50 MP, a third does not; the small one behind it waits its turn.
    expect([...granted.keys()]).toEqual([0, 1]);
    expect(budget.inUse()).toBe(48 * MP);
    granted.get(0)!();
    await settle();
    expect([...granted.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(budget.inUse()).toBe(50 * MP);
  });

  it('serves waiters in arrival order: a stream of small images does not starve a large one', async () => {
    const budget = createPixelBudget(10 * MP);
    const first = await budget.acquire(6 * MP);
    const granted = tracker([budget.acquire(8 * MP), budget.acquire(1 * MP)]);
    await settle();
    expect(granted.size).toBe(0); // the 1 MP image would fit, but the 8 MP one came first
    first();
    await settle();
    expect([...granted.keys()].sort()).toEqual([0, 1]);
  });

  it('runs an image larger than the whole budget alone rather than never', async () => {
    const budget = createPixelBudget(10 * MP);
    const small = await budget.acquire(1 * MP);
    const granted = tracker([budget.acquire(100 * MP), budget.acquire(1 * MP)]);
    await settle();
    expect(granted.size).toBe(0);
    small();
    await settle();
    expect([...granted.keys()]).toEqual([0]);
    granted.get(0)!();
    await settle();
    expect(granted.has(1)).toBe(true);
  });

  it('gives pixels back once however often release is called', async () => {
    const budget = createPixelBudget(10 * MP);
    const release = await budget.acquire(4 * MP);
    await budget.acquire(4 * MP);
    release();
    release();
    expect(budget.inUse()).toBe(4 * MP);
  });

  it('charges every image a fixed share on top of its pixels', async () => {
    const budget = createPixelBudget(10 * MP, 2 * MP);
    const granted = tracker([budget.acquire(3 * MP), budget.acquire(3 * MP), budget.acquire(1 * MP)]);
    await settle();
    expect([...granted.keys()]).toEqual([0, 1]); // 5 + 5 MP: the third (3 MP) must wait
    expect(budget.inUse()).toBe(10 * MP);
  });

  it('drops a cancelled waiter and lets the ones behind it through', async () => {
    const budget = createPixelBudget(10 * MP);
    await budget.acquire(5 * MP);
    const abort = new AbortController();
    const cancelled = budget.acquire(8 * MP, abort.signal);
    const granted = tracker([budget.acquire(5 * MP)]);
    await settle();
    expect(granted.size).toBe(0);
    abort.abort(new Error('activity cancelled'));
    await expect(cancelled).rejects.toThrow('activity cancelled');
    await settle();
    expect(granted.has(0)).toBe(true);
    expect(budget.inUse()).toBe(10 * MP);
  });
});
