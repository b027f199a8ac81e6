import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fairLimit } from '../../../src/activities/fair-limit.js';

describe('fairLimit', () => {
  it('takes keys in turn: a key with many calls queued does not hold back one that arrives later', async () => {
    const limit = fairLimit(1);
    const order: string[] = [];
    const call = (key: string, name: string) =>
      limit(key, async () => {
        order.push(name);
        await sleep(2);
      });
    const big = [1, 2, 3, 4, 5].map((i) => call('big', `big${i}`));
    const small = [1, 2].map((i) => call('small', `small${i}`));
    await Promise.all([...big, ...small]);
    // big1 was running and big2 waiting before the small operator's calls arrived.
    expect(order).toEqual(['big1', 'big2', 'small1', 'big3', 'small2', 'big4', 'big5']);
  });

  it("a key whose next call has a lower priority key goes first; each key's own calls keep their order", async () => {
    const limit = fairLimit(1);
    const order: string[] = [];
    const call = (key: string, name: string, priorityKey?: number) =>
      limit(
        key,
        async () => {
          order.push(name);
          await sleep(2);
        },
        priorityKey,
      );
    const calls = [
      call('big', 'big1'), // runs at once
      call('big', 'big2'), // queued before big made room: default priority
      call('big', 'big3', 4),
      call('big', 'big4', 4),
      call('small', 'small1'),
      call('small', 'small2', 3),
      call('small', 'small3'),
    ];
    await Promise.all(calls);
    // big2 and small1 take turns at priority 3; big's later calls wait until small has none left.
    expect(order).toEqual(['big1', 'big2', 'small1', 'small2', 'small3', 'big3', 'big4']);
  });

  it('never runs more than its concurrency at once, and runs every call', async () => {
    const limit = fairLimit(2);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limit(`op${i % 3}`, async () => {
          peak = Math.max(peak, ++active);
          await sleep(1 + (i % 4));
          active--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('a failing call passes its error on and frees its slot', async () => {
    const limit = fairLimit(1);
    const failed = limit('a', async () => {
      throw new Error('corrupt image');
    });
    const next = limit('b', async () => 'ran');
    await expect(failed).rejects.toThrow('corrupt image');
    await expect(next).resolves.toBe('ran');
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => fairLimit(0)).toThrow('concurrency must be a positive integer, not 0');
  });
});
