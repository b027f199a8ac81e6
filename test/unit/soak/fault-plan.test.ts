import { describe, expect, it } from 'vitest';
import { parseSoakArgs, UsageError } from '../../../soak/args.js';
import { countByKind, FAULT_KINDS, planFaults, type PlanInput } from '../../../soak/fault-plan.js';

const input = (minutes: number): PlanInput => ({
  workloadMs: minutes * 60_000,
  operators: [
    { id: 'soak-a', dialect: 'A' },
    { id: 'soak-b', dialect: 'B' },
    { id: 'soak-c', dialect: 'C' },
    { id: 'soak-d', dialect: 'D' },
  ],
  workers: ['tour-import-1', 'tour-import-2', 'image-processing-1', 'image-processing-2'],
});

describe('the soak fault schedule', () => {
  it('is fixed by the seed', () => {
    expect(planFaults(7, input(2.5))).toEqual(planFaults(7, input(2.5)));
    expect(planFaults(7, input(2.5))).not.toEqual(planFaults(8, input(2.5)));
  });

  it.each([1, 26, 4242, 0xffffffff])(
    'with seed %i, a 2.5-minute run injects every kind within its workload',
    (seed) => {
      const plan = planFaults(seed, input(2.5));
      expect(Object.values(countByKind(plan)).every((n) => n >= 1)).toBe(true);
      for (const e of plan) expect(e.at + e.forMs).toBeLessThanOrEqual(2.5 * 60_000);
    },
  );

  it('takes one process down at a time, and never overlaps two faults at one operator', () => {
    const plan = planFaults(26, input(30));
    const spans = (events: typeof plan) =>
      events
        .map((e) => [e.at, e.at + e.forMs] as const)
        .sort((a, b) => a[0] - b[0])
        .every((span, i, all) => i === 0 || span[0] >= all[i - 1]![1]);
    expect(spans(plan.filter((e) => !e.sim))).toBe(true);
    for (const op of ['soak-a', 'soak-b', 'soak-c', 'soak-d'])
      expect(spans(plan.filter((e) => e.target === op))).toBe(true);
    // Dialect B serves no per-product endpoint: no fault is aimed at one.
    expect(plan.filter((e) => e.target === 'soak-b' && e.sim?.route === 'detail')).toEqual([]);
    expect(new Set(plan.map((e) => e.kind))).toEqual(new Set(FAULT_KINDS));
  });
});

describe('the soak command line', () => {
  it('reads fractional minutes and a seed, and draws a seed when none is given', () => {
    expect(parseSoakArgs(['--minutes', '2.5', '--seed', '26'])).toEqual({
      minutes: 2.5,
      seed: 26,
      seedDrawn: false,
      keep: false,
    });
    expect(parseSoakArgs([])).toMatchObject({ minutes: 2.5, seedDrawn: true });
  });

  it.each([
    [['--minutes', 'soon'], /--minutes must be a number of minutes above 0.*got "soon"/],
    [['--minutes', '0'], /--minutes/],
    [['--seed=-1'], /--seed must be an integer from 0 to 4294967295 \(got "-1"\)/],
    [['--seed', '1.5'], /--seed/],
    [['--hours', '1'], /Unknown option '--hours'/],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(() => parseSoakArgs(argv)).toThrow(UsageError);
    expect(() => parseSoakArgs(argv)).toThrow(message);
  });
});
