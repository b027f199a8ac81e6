import { afterAll, describe, expect, it } from 'vitest';
import { MonotonicClock } from '../../../tooling/simulator/clock.js';
import { A_HEADERS, json, simulator } from './helpers.js';

const MINUTE = 60_000;

describe('simulated operator time', () => {
  const started = simulator([
    { id: 'feed-a', dialect: 'A', tourCount: 10, credentials: { apiKey: 'ka' } },
    { id: 'list-b', dialect: 'B', tourCount: 10, credentials: { apiKey: 'kb' } },
  ]);
  afterAll(async () => (await started).close());

  const dateOf = (res: Response) => Date.parse(res.headers.get('date') ?? '');
  const listB = async () => fetch(`${(await started).operator('list-b').baseUrl}/v1/products?apiKey=kb`);

  it('moves forward only, and stamps stay strictly increasing', () => {
    const clock = new MonotonicClock();
    const before = clock.now();
    clock.advance(5 * MINUTE);
    const after = clock.now();
    expect(after - before).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(clock.time()).toBeGreaterThanOrEqual(after);
    expect(clock.now()).toBeGreaterThan(after);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it("sends the operator's time, advanced, as the Date header of A and B responses", async () => {
    const sim = await started;
    const realBefore = Date.now();
    const opNow = sim.advanceClock(10 * MINUTE).getTime();
    expect(opNow - realBefore).toBeGreaterThanOrEqual(10 * MINUTE);

    const b = await listB();
    expect(b.status).toBe(200);
    const a = await fetch(`${sim.operator('feed-a').baseUrl}/partner/products/modified-since?count=5`, {
      headers: A_HEADERS('ka'),
    });
    // Errors too: a request without the key still gets the operator's Date.
    const denied = await fetch(`${sim.operator('feed-a').baseUrl}/partner/products/modified-since`);
    expect(denied.status).toBe(401);
    for (const res of [a, b, denied]) {
      // HTTP dates have 1-second resolution.
      expect(dateOf(res)).toBeGreaterThanOrEqual(opNow - 1000);
      expect(dateOf(res)).toBeLessThan(Date.now() + 10 * MINUTE + 1000);
    }
  });

  it('stamps changes with the advanced time, and the admin API moves the same clock', async () => {
    const sim = await started;
    const op = sim.operator('list-b');
    const res = await fetch(`${sim.url}/admin/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 3 * MINUTE }),
    });
    const state = await json<{ now: string; offsetMs: number }>(res);
    expect(state.offsetMs).toBeGreaterThanOrEqual(3 * MINUTE);
    const changed = op.change(op.activeCodes()[0]);
    expect(changed.updatedAt).toBeGreaterThanOrEqual(Date.parse(state.now));
    expect(dateOf(await listB())).toBeGreaterThanOrEqual(Date.parse(state.now) - 1000);

    const backwards = await fetch(`${sim.url}/admin/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: -MINUTE }),
    });
    expect(backwards.status).toBe(400);
  });
});
