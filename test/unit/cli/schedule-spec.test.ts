import { describe, expect, it } from 'vitest';
import { parseOperatorsYaml } from '../../../src/operators/registry.js';
import { desiredSchedules, parseScheduleId, scheduleId } from '../../../src/schedules/spec.js';
import { progressRatio } from '../../../src/domain/operator-import.js';
import { statusText } from '../../../src/cli/format.js';

const op = (schedule: string) =>
  parseOperatorsYaml(
    `operators:\n  - { id: op-1, name: Op, dialect: A, baseUrl: http://x.test, apiKeyEnv: K, schedule: ${schedule} }\n`,
    'test.yaml',
  )[0];

describe('schedules from operator config', () => {
  it('an interval with jitter and fullEvery gives a delta and an offset full schedule', () => {
    const { schedules, warnings } = desiredSchedules(op('{ every: 1h, jitter: 5m, fullEvery: 24 }'));
    expect(warnings).toEqual([]);
    expect(schedules).toEqual([
      {
        scheduleId: 'import-schedule:op-1',
        operatorId: 'op-1',
        mode: 'delta',
        spec: { intervals: [{ every: 3_600_000 }], jitter: 300_000 },
      },
      {
        scheduleId: 'import-schedule:op-1:full',
        operatorId: 'op-1',
        mode: 'full',
        spec: { intervals: [{ every: 24 * 3_600_000, offset: 1_800_000 }], jitter: 300_000 },
      },
    ]);
  });

  it('a cron with fullCron gives two cron schedules; fullEvery with a cron is reported', () => {
    const both = desiredSchedules(op("{ cron: '0 */6 * * *', fullCron: '0 3 * * 0' }"));
    expect(both.schedules.map((s) => s.spec)).toEqual([
      { cronExpressions: ['0 */6 * * *'], jitter: undefined },
      { cronExpressions: ['0 3 * * 0'], jitter: undefined },
    ]);
    const odd = desiredSchedules(op("{ cron: '0 */6 * * *', fullEvery: 4 }"));
    expect(odd.schedules).toHaveLength(1);
    expect(odd.warnings[0]).toMatch(/op-1.*fullEvery needs an interval/);
  });

  it('schedule ids round-trip, and foreign ids are not ours', () => {
    expect(parseScheduleId(scheduleId('a-b', 'full'))).toEqual({ operatorId: 'a-b', mode: 'full' });
    expect(parseScheduleId(scheduleId('a-b'))).toEqual({ operatorId: 'a-b', mode: 'delta' });
    expect(parseScheduleId('import-schedule:x:weekly')).toBeUndefined();
    expect(parseScheduleId('someone-else')).toBeUndefined();
  });
});

describe('CLI output', () => {
  const progress = {
    listed: 10,
    queued: 2,
    running: 3,
    done: 2,
    unchanged: 1,
    failed: 1,
    removed: 1,
    invalid: 0,
    paused: false,
    pauseReason: null,
    status: 'running' as const,
  };

  it('the bar counts handled tours over listed tours', () => {
    expect(progressRatio(progress)).toEqual({ value: 5, total: 10 });
  });

  it('status shows state, pause reason, running import and the last runs', () => {
    const text = statusText({
      id: 'op-1',
      name: 'Op',
      dialect: 'A',
      state: 'paused',
      pauseReason: 'circuit breaker: 5 failures in a row',
      pausedAt: new Date('2025-01-02T03:04:05Z'),
      pausedBy: 'breaker',
      resumeAt: new Date('2025-01-02T03:19:05Z'),
      lastErrors: ['T1: OperatorHttpError: 500'],
      runningWorkflowId: 'import:op-1:x',
      progress,
      heldRemovals: null,
      notifications: [
        {
          operatorId: 'op-1',
          event: 'paused',
          sink: 'ops-slack',
          message: 'circuit breaker: 5 failures in a row',
          status: 'failed',
          attempts: 4,
          httpStatus: 503,
          lastError: 'HTTP 503',
          updatedAt: new Date('2025-01-02T03:04:09Z'),
        },
      ],
      lastRuns: [
        {
          id: 1,
          operatorId: 'op-1',
          mode: 'full',
          status: 'paused',
          workflowId: 'import:op-1:x',
          runId: 'r',
          counts: { listed: 10, done: 2 },
          message: null,
          startedAt: new Date('2025-01-02T03:00:00Z'),
          finishedAt: null,
        },
      ],
    });
    expect(text).toContain('op-1 (Op, dialect A): paused');
    expect(text).toContain('paused since 2025-01-02 03:04:05Z: circuit breaker: 5 failures in a row');
    expect(text).toContain('last error: T1: OperatorHttpError: 500');
    expect(text).toContain('resumes on its own with a probe at 2025-01-02 03:19:05Z');
    expect(text).toMatch(/2025-01-02 03:04:09Z\s+paused\s+ops-slack\s+failed \(4 attempts\)\s+HTTP 503/);
    expect(text).toContain('progress: running: listed 10, imported 2, unchanged 1, removed 1, failed 1');
    expect(text).toMatch(/2025-01-02 03:00:00Z\s+full\s+paused\s+listed 10, imported 2/);
  });
});
